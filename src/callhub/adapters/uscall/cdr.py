"""USCall's call records (cdrSearch) into callhub's calls, and their recordings.

Imported day by day, each CDR merged into the call with the same `bilheteunico` (the
poller may already have recorded it, answered or abandoned): importing twice changes
nothing. A CDR whose `idcti` is the number of a request (click-to-call sends it) is
linked to that request, so the request's screen lists the call and its recording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from callhub.adapters.uscall import results as r
from callhub.adapters.uscall.client import USCallClient
from callhub.identity import normalise_phone
from callhub.store import calls, requests
from callhub.store.engine import Store
from callhub.store.models import CallDirection

SOURCE = "uscall"
OUTBOUND = {"efetuada", "click to call", "discador"}
ANSWERED = {"completada", "atendido", "transferencia"}


@dataclass
class ImportReport:
    days: int = 0
    records: int = 0
    new: int = 0
    linked: int = 0


def values_of(cdr: r.CdrRecord) -> dict[str, Any]:
    """A CDR as call fields: who called whom, from which extension, how it ended."""
    outbound = cdr.tipo.strip().casefold() in OUTBOUND
    number = cdr.destino if outbound else cdr.origem
    ramal = cdr.origem if outbound else cdr.destino
    talked = cdr.status.strip().casefold() in ANSWERED
    return {
        "number": (normalise_phone(number) or number or "")[:32] or None,
        "ramal": ramal[:20] if ramal.isdigit() and len(ramal) <= 6 else None,
        "started_at": cdr.datahora,
        "ended_at": cdr.datahora + timedelta(seconds=cdr.duracao)
        if cdr.datahora and cdr.duracao is not None
        else None,
        "direction": CallDirection.active if outbound else CallDirection.receptive,
        "call_type": cdr.tipo[:16] or None,
        "status": cdr.status[:64] or None,
        "trunk": cdr.tronco[:32] or None,
        "wait_seconds": cdr.espera,
        "duration_seconds": cdr.duracao,
        "talk_seconds": max(0, (cdr.duracao or 0) - (cdr.espera or 0)) if talked else 0,
        "audio_file": cdr.audio[:255] or None,
        "order_typed": cdr.idcti[:32] or None,
    }


def _save(session: Session, batch: list[r.CdrRecord]) -> tuple[int, int]:
    new = linked = 0
    for cdr in batch:
        if not cdr.bilheteunico:
            continue
        values = values_of(cdr)
        outbound = values["direction"] == CallDirection.active
        calls.adopt_for_uscall(
            session=session,
            external_id=cdr.bilheteunico[:64],
            number=None if outbound else cdr.origem.strip() or None,
            started_at=cdr.datahora,
        )
        known = calls.by_external_id(session=session, source=SOURCE, external_id=cdr.bilheteunico)
        call_id = calls.merge_record(
            session=session,
            source=SOURCE,
            external_id=cdr.bilheteunico[:64],
            values=values,
            newer_wins=True,
        )
        new += known is None
        if cdr.idcti.isdigit() and len(cdr.idcti) < 12:
            request = requests.get_request(session=session, number=int(cdr.idcti))
            if request is not None and request.id is not None:
                calls.set_request(session=session, call_id=call_id, request_id=request.id)
                linked += 1
    session.commit()
    return new, linked


async def import_cdrs(
    *,
    client: USCallClient,
    store: Store,
    first: date,
    last: date,
    zone: ZoneInfo,
    progress: Callable[[int, int, ImportReport], None] = lambda _d, _n, _r: None,
) -> ImportReport:
    """Every CDR from `first` to `last` (whole local days, both included)."""
    report = ImportReport()
    days = (last - first).days + 1
    for n in range(days):
        day = first + timedelta(days=n)
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(day, time(23, 59, 59), tzinfo=zone)
        batch = await client.cdr_search(dataini=start, datafin=end)
        new, linked = await store.run(lambda s, b=batch: _save(s, b))  # type: ignore[misc]
        report.days += 1
        report.records += len(batch)
        report.new += new
        report.linked += linked
        progress(n + 1, days, report)
    return report
