"""The v2 reference lists (contracts, units, statuses, denied reasons), and the device's
own operations: its coordinates, its disassociation."""

from __future__ import annotations

from sqlmodel import Session

from callhub import i18n
from callhub.store import api, field, itsm
from callhub.store.models import Status, Unit
from callhub.webservices.services.framework import ApiError, Call, operation
from callhub.webservices.services.schemas import (
    Authed,
    ContractsOut,
    CoordinatesIn,
    DisassociateIn,
    IdDescription,
    JustificationOut,
    ReasonsOut,
    StatusItem,
    StatusListOut,
    SuccessOut,
    UnitOut,
    UnitsIn,
    UnitsOut,
)
from callhub.webservices.services.shapes import status_of
from callhub.webservices.services.support import SESSION

N_ = i18n.N_


# The v2 status ids of the field-service app, and the request status each stands for.
V2_STATUS = (
    (1, Status.in_progress),
    (2, Status.suspended),
    (3, Status.canceled),
    (4, Status.resolved),
)


@operation(
    "v2/contracts",
    model=Authed,
    answer=ContractsOut,
    summary=N_("Contratos ativos"),
    tag="v2",
    example=SESSION,
)
def contracts(call: Call, body: Authed, session: Session) -> ContractsOut:
    return ContractsOut(
        contracts=[
            IdDescription(id=c.id or 0, description=c.description)
            for c in itsm.contracts(session=session)
        ]
    )


def _unit(u: Unit) -> UnitOut:
    return UnitOut(
        id=u.id or 0,
        description=u.description,
        contractID=u.contract_id,
        latitude=u.latitude,
        longitude=u.longitude,
    )


@operation(
    "v2/units",
    model=UnitsIn,
    answer=UnitsOut,
    summary=N_("Unidades (locais de atendimento), de um contrato ou todas"),
    tag="v2",
    example={**SESSION, "contractID": 1},
)
def units(call: Call, body: UnitsIn, session: Session) -> UnitsOut:
    found = itsm.units(session=session, contract_id=body.contractID, unit_id=body.unitID)
    return UnitsOut(units=[_unit(u) for u in found])


@operation(
    "v2/status",
    model=Authed,
    answer=StatusListOut,
    summary=N_("Situações do atendimento de campo (1 a 4) e suas justificativas"),
    tag="v2",
    example=SESSION,
)
def statuses(call: Call, body: Authed, session: Session) -> StatusListOut:
    reasons = itsm.justifications(session=session)
    return StatusListOut(
        status=[
            StatusItem(
                id=number,
                description=status_of(call, status.value).name,
                justifications=[
                    JustificationOut(id=j.id or 0, description=j.description, parentId=number)
                    for j in reasons
                    if j.status_id == number
                ],
            )
            for number, status in V2_STATUS
        ]
    )


@operation(
    "v2/deniedReasons",
    model=Authed,
    answer=ReasonsOut,
    summary=N_("Motivos de check-in negado"),
    tag="v2",
    example=SESSION,
)
def denied_reasons(call: Call, body: Authed, session: Session) -> ReasonsOut:
    return ReasonsOut(
        reasons=[
            IdDescription(id=r.id or 0, description=r.description)
            for r in itsm.denied_reasons(session=session)
        ]
    )


@operation(
    "v2/coordinates",
    model=CoordinatesIn,
    answer=SuccessOut,
    summary=N_("Grava a posição (latitude, longitude) de uma unidade"),
    tag="v2",
    example={**SESSION, "unitID": 1, "latitude": -23.5614, "longitude": -46.6559},
)
def coordinates(call: Call, body: CoordinatesIn, session: Session) -> SuccessOut:
    unit = field.get_unit(session=session, unit_id=body.unitID)
    if unit is None:
        raise ApiError(
            "NOT_FOUND",
            N_("%(field)s %(value)s não existe."),
            404,
            field="unitID",
            value=body.unitID,
        )
    field.locate_unit(session=session, unit=unit, latitude=body.latitude, longitude=body.longitude)
    return SuccessOut(success=True)


@operation(
    "v2/device/disassociate",
    model=DisassociateIn,
    answer=SuccessOut,
    summary=N_("Desassocia o token de push de um aparelho das sessões do usuário"),
    tag="v2",
    example={**SESSION, "connection": "ANDROID", "token": "device-push-token"},
)
def disassociate(call: Call, body: DisassociateIn, session: Session) -> SuccessOut:
    count = api.disassociate_device(session=session, user_id=call.user_id, device_token=body.token)
    return SuccessOut(success=count > 0)
