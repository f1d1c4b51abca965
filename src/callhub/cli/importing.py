"""callhub import-requesters: a CSV of requesters (cpf, name, email, phone), checked row by row."""

from __future__ import annotations

import argparse
import csv
import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from callhub.cli.common import with_store
from callhub.identity import DocKind, normalise_phone, parse_document
from callhub.settings import Settings
from callhub.store import catalog
from callhub.store.engine import Store


def save_requester_row(
    cpf: str, name: str, email: str | None, phone: str | None, session: Session
) -> bool:
    """One row, one transaction: a bad row spoils none."""
    _requester, created = catalog.save_requester(
        session=session,
        document=parse_document(cpf),
        name=name,
        email=email,
        phones=[phone] if phone else [],
    )
    session.commit()
    return created


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def check_row(
    row: dict[str, str | None],
) -> tuple[str | None, tuple[str, str, str | None, str | None]]:
    """(why the row is rejected, or None; the cleaned cpf, name, email, phone)."""
    cpf = (row.get("cpf") or "").strip()
    name = (row.get("name") or "").strip()
    email = (row.get("email") or "").strip() or None
    phone_raw = (row.get("phone") or "").strip()
    document = parse_document(cpf)
    if document.kind is DocKind.missing:
        return "cpf is empty", ("", name, email, None)
    if not document.valid:
        return f"cpf {cpf!r} fails its check digits", ("", name, email, None)
    if not name:
        return "name is empty", (document.digits, name, email, None)
    if len(name) > 160:
        return "name is longer than 160 characters", (document.digits, name, email, None)
    if email is not None and ("@" not in email or len(email) > 254 or " " in email):
        return f"email {email!r} is not an address", (document.digits, name, email, None)
    phone = normalise_phone(phone_raw) if phone_raw else None
    if phone_raw and phone is None:
        return f"phone {phone_raw!r} is not a phone number", (document.digits, name, email, None)
    return None, (document.digits, name, email, phone)


async def import_requesters(store: Store, path: Path) -> ImportReport:
    report = ImportReport()
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"cpf", "name", "email", "phone"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(sorted(missing))}")
        seen: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            problem, (cpf, name, email, phone) = check_row(row)
            if problem is None and cpf in seen:
                problem = f"cpf repeats line {seen[cpf]}"
            if problem is not None:
                report.rejected.append((line, problem))
                continue
            seen[cpf] = line
            created = await store.run(
                functools.partial(save_requester_row, cpf, name, email, phone)
            )
            if created:
                report.created += 1
            else:
                report.updated += 1
    return report


def import_requesters_cmd(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return 2
    try:
        report = with_store(settings, lambda s: import_requesters(s, path))
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line, why in report.rejected:
        print(f"line {line}: rejected: {why}")
    print(f"{report.created} created, {report.updated} updated, {len(report.rejected)} rejected")
    return 0 if not report.rejected else 1
