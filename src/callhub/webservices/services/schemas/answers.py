"""What the ITSM API answers: each answer's fields, named exactly as integrators read
them (built from these models, so /openapi.json says what is served)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeName(Out):
    code: str
    name: str


class ServiceOut(Out):
    code: str
    name: str
    category: CodeName | None


class ContactOut(Out):
    name: str | None
    phoneNumber: str | None
    email: str | None


class TaskOut(Out):
    number: int
    name: str
    startDateTime: str
    status: CodeName
    userId: str | None
    groupId: str | None


class RequestOut(Out):
    number: int
    numberOrigin: str | None
    type: str
    description: str
    userID: str | None
    contact: ContactOut
    contractID: int | None
    service: ServiceOut | None
    urgency: str
    impact: str
    groupId: str | None
    startDateTime: str
    startSLA: str | None
    endSLA: str | None
    deadline: str | None
    status: CodeName
    currentTask: TaskOut | None
    definedSLA: bool
    linkedNumber: int | None


class OccurrenceOut(Out):
    number: int
    numberOrigin: str | None
    description: str
    date: str
    hour: str
    origin: str
    category: dict[str, str] | None
    userID: str | None
    elapsedTime: int | None
    reason: str | None
    task: str | None
    requestNumber: int
    requestNumberOrigin: str | None


class RequestWithLogs(RequestOut):
    occurrences: list[OccurrenceOut] | None = None


class LoginOut(Out):
    sessionID: str


class LoginV2Out(LoginOut):
    rangeAction: int
    locationInterval: int


class RequestsOut(Out):
    amount: int
    requests: list[RequestWithLogs]


class LogsOut(Out):
    amount: int
    logs: list[OccurrenceOut]


class AddServiceRequestOut(Out):
    serviceRequestDest: RequestOut


class KeyOut(Out):
    Object: str
    FromKey: str
    ToKey: str


class KeysOut(Out):
    amount: int
    requests: list[KeyOut]


class SuccessOut(Out):
    success: bool


class QueryOut(Out):
    Result: list[dict[str, Any]]
    Truncated: bool


class ExecuteOut(Out):
    Result: list[dict[str, Any]]
    RowCount: int | None


class ErrorItem(Out):
    operationID: int
    operation: str
    dateTime: int
    userID: str | None
    code: str | None
    description: str | None
    httpStatus: int
    messageID: str | None


class ErrorsOut(Out):
    Amount: int
    Errors: list[ErrorItem]


class IdDescription(Out):
    id: int
    description: str


class ContractsOut(Out):
    contracts: list[IdDescription]


class UnitOut(Out):
    id: int
    description: str
    contractID: int
    latitude: float | None
    longitude: float | None


class UnitsOut(Out):
    units: list[UnitOut]


class JustificationOut(Out):
    id: int
    description: str
    parentId: int


class StatusItem(Out):
    id: int
    description: str
    justifications: list[JustificationOut]


class StatusListOut(Out):
    status: list[StatusItem]


class ReasonsOut(Out):
    reasons: list[IdDescription]


class WorkflowState(Out):
    code: str
    name: str
    initial: bool
    final: bool


class WorkflowTransition(Out):
    source: str = Field(serialization_alias="from")
    target: str = Field(serialization_alias="to")


class WorkflowOut(Out):
    states: list[WorkflowState]
    transitions: list[WorkflowTransition]


class Empty(Out):
    pass
