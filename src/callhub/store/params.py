"""Numbered parameters (281, 282, 283) and run-time settings (the PBX token)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from callhub.store.models import Parameter, Setting, utcnow

TELEPHONY_ENABLED = 281
CHILD_ON_VIEW = 282
CHILD_SERVICE = 283

DEFAULTS: dict[int, str] = {TELEPHONY_ENABLED: "S", CHILD_ON_VIEW: "N", CHILD_SERVICE: ""}
YES = {"S", "Y", "SIM", "YES"}


@dataclass(frozen=True)
class TelephonyParams:
    enabled: bool
    child_on_view: bool
    child_service_id: int | None


def is_yes(value: str) -> bool:
    return value.strip().upper() in YES


def get_parameters(*, session: Session) -> dict[int, str]:
    values = dict(DEFAULTS)
    for p in (session.exec(select(Parameter))).all():
        values[p.id] = p.value
    return values


def telephony_params(*, session: Session) -> TelephonyParams:
    values = get_parameters(session=session)
    service = values.get(CHILD_SERVICE, "").strip()
    return TelephonyParams(
        enabled=is_yes(values[TELEPHONY_ENABLED]),
        child_on_view=is_yes(values[CHILD_ON_VIEW]),
        child_service_id=int(service) if service.isdigit() else None,
    )


def set_parameter(*, session: Session, number: int, value: str) -> None:
    param = session.get(Parameter, number)
    if param is None:
        param = Parameter(id=number, value=value)
    param.value = value
    session.add(param)
    session.flush()


def get_setting(*, session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row is not None else None


def set_setting(*, session: Session, key: str, value: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=value)
    row.value = value
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
