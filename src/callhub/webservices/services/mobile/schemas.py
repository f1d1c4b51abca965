"""The field app's shapes (/mobile/*), field names exactly as the app sends and reads them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field

from callhub.webservices.services.schemas import Authed, In, Latitude, Longitude, Number, Out

# Times the app sends: epoch milliseconds (up to the last moment of year 9999).
EpochMs = Annotated[int, Field(ge=0, le=253_402_300_799_999)]
Flag = Annotated[int, Field(ge=0, le=1)]


class ListIn(Authed):
    # 0 all, 1 purchases, 2 travels, 3 HR, 4 incidents, 5 others, 6 waiting (suspended).
    notificationType: int = Field(default=0, ge=0, le=6)
    # 1: approvals only.
    onlyApproval: Flag = 0
    # 0 the leader's order, then the deadline; 1 newest first; 2 oldest first.
    ordem: int = Field(default=0, ge=0, le=2)


class NewestIn(ListIn):
    newestNumber: int = Field(default=0, ge=0, le=2**31 - 1)


class OldestIn(ListIn):
    # 0 (or absent): from the newest end.
    oldestNumber: int = Field(default=0, ge=0, le=2**31 - 1)


class SearchIn(NewestIn):
    textoBusca: str = Field(min_length=1, max_length=200)


class Pager(In):
    page: int = Field(default=1, ge=1, le=1_000_000)
    size: int = Field(default=20, ge=1, le=200)


class CoordinatesListIn(ListIn):
    latitude: Latitude
    longitude: Longitude
    pager: Pager = Field(default_factory=Pager)


class TaskRef(Authed):
    taskId: Number


class NumberRef(Authed):
    number: Number


class FeedbackIn(TaskRef):
    # 0 reject, 1 approve.
    feedback: Literal[0, 1]
    reasonId: Number | None = None
    comments: str | None = Field(default=None, max_length=2000)


class NewIn(Authed):
    description: str = Field(min_length=1, max_length=4000)
    latitude: Latitude
    longitude: Longitude


class AttendIn(NumberRef):
    latitude: Latitude
    longitude: Longitude
    dateTime: EpochMs | None = None


class CheckinIn(TaskRef):
    latitude: Latitude
    longitude: Longitude
    startTime: EpochMs | None = None


class DeniedIn(Authed):
    # The seed spells these with capitals; both spellings are read.
    taskId: Number = Field(validation_alias=AliasChoices("taskId", "TaskId"))
    latitude: Latitude = Field(validation_alias=AliasChoices("latitude", "Latitude"))
    longitude: Longitude = Field(validation_alias=AliasChoices("longitude", "Longitude"))
    dateTime: EpochMs | None = Field(
        default=None, validation_alias=AliasChoices("dateTime", "DateTime")
    )
    reasonId: Number = Field(validation_alias=AliasChoices("reasonId", "ReasonId"))


class CheckoutIn(TaskRef):
    latitude: Latitude
    longitude: Longitude
    # v2/status ids: 1 in progress, 2 suspended, 3 canceled, 4 solved.
    status: Literal[1, 2, 3, 4]
    # A justification of that status (v2/status); required with 2 and 4, as descSolution.
    solution: Number | None = None
    descSolution: str | None = Field(default=None, max_length=4000)
    comments: str | None = Field(default=None, max_length=2000)


class LocationIn(Authed):
    latitude: Latitude
    longitude: Longitude
    dateTime: EpochMs | None = None


class Assignment(In):
    taskId: Number
    # The member who takes the task; null gives it back to the whole team.
    userName: str | None = Field(default=None, max_length=64)


class AssignIn(Authed):
    result: list[Assignment] = Field(min_length=1, max_length=500)


class RequestInfo(In):
    number: Number
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    unitID: Number | None = None
    priorityorder: int | None = Field(default=None, ge=1, le=9999)


class UpdateInfoIn(Authed):
    result: list[RequestInfo] = Field(min_length=1, max_length=500)


class JustificationsIn(In):
    sessionID: str | None = Field(default=None, max_length=128)
    messageID: str | None = Field(default=None, max_length=128)


# -- answers ----------------------------------------------------------------------------


class Notification(Out):
    number: int
    taskId: int
    type: int
    date: str
    endSLA: str | None
    timeSLA: int
    timeFlag: int
    task: str
    service: str
    waiting: int
    typeRequest: int
    personal: bool
    inService: bool
    inCheckin: int
    latitude: float | None
    longitude: float | None
    contract: int | None
    unit: int | None
    priorityorder: int | None


class NotificationsOut(Out):
    notifications: list[Notification]


class CountedNotificationsOut(NotificationsOut):
    amount: int


class Paging(Out):
    page: int
    size: int
    totalElements: int
    totalPages: int


class PagedNotificationsOut(NotificationsOut):
    paging: Paging


class TaskDetail(Out):
    number: int
    taskId: int
    task: str
    service: str
    description: str
    status: str
    taskStatus: str
    endSLA: str | None
    timeSLA: int
    typeRequest: int


class TaskDetailOut(Out):
    site: str | None
    notification: TaskDetail


class ReasonDesc(Out):
    id: int
    desc: str


class TaskReasonsOut(Out):
    amount: int
    reasons: list[ReasonDesc]


class NumberOut(Out):
    number: int


class VisitOut(NumberOut):
    # The check-in's own id (the check-out answers the same one).
    id: int


class Colaborador(Out):
    idColaborador: int
    login: str
    nome: str
    lider: bool
    # The member's last reported position, for the leader who hands out work.
    latitude: float | None
    longitude: float | None
    posicaoEm: int | None


class ColaboradoresOut(Out):
    colaboradores: list[Colaborador]


class Equipe(Out):
    idGrupo: int
    sigla: str
    nome: str
    colaboradores: list[Colaborador]


class EquipeOut(Out):
    equipe: Equipe | None


class Grupo(Out):
    idGrupo: int
    sigla: str
    nome: str
    membros: int


class GruposOut(Out):
    grupos: list[Grupo]


class Justificativa(Out):
    idJustificativa: int
    descricaoJustificativa: str
    # "S" or "N", as the app's tables keep them; situacao "A" active.
    suspensao: str
    situacao: str
    complementoJustificativa: str | None
    filtroDescricaoJustificativa: str
    viagem: str
    aprovacao: str
    deleted: str
    # The v2/status id this justification belongs to.
    status: int


class JustificativasOut(Out):
    justificativas: list[Justificativa]
