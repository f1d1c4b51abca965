"""callhub uscall import-cdr: USCall's call records for a range of days, into the store."""

from __future__ import annotations

import argparse
import sys

from callhub.cli.common import with_store
from callhub.settings import Settings
from callhub.store.engine import Store


def uscall_import_cdr(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date

    from callhub.adapters.uscall.cdr import ImportReport as CdrReport
    from callhub.adapters.uscall.cdr import import_cdrs
    from callhub.adapters.uscall.client import USCallClient, USCallError

    if not settings.uscall:
        print("error: set CALLHUB_USCALL_WSDL and CALLHUB_USCALL_TOKEN", file=sys.stderr)
        return 2
    try:
        first = date.fromisoformat(args.date_from)
        last = date.fromisoformat(args.date_to or args.date_from)
    except ValueError:
        print("error: --from and --to are dates, YYYY-MM-DD", file=sys.stderr)
        return 2
    if last < first or (last - first).days > 366:
        print("error: --to must be on or after --from, at most a year later", file=sys.stderr)
        return 2
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, report: CdrReport) -> None:
        bar = "#" * (30 * done // total)
        line = f"[{bar:<30}] {done}/{total} days, {report.records} records ({report.new} new)"
        print(
            ("\r" + line) if tty else line,
            end="" if tty and done < total else "\n",
            file=sys.stderr,
            flush=True,
        )

    async def work(store: Store) -> CdrReport:
        assert settings.uscall_wsdl and settings.uscall_token
        client = await USCallClient.connect(
            settings.uscall_wsdl,
            settings.uscall_token,
            timeout=max(settings.uscall_timeout, 30),
            verify_tls=settings.uscall_verify_tls,
            zone=settings.zone,
        )
        try:
            return await import_cdrs(
                client=client,
                store=store,
                first=first,
                last=last,
                zone=settings.zone,
                progress=progress,
            )
        finally:
            await client.aclose()

    try:
        report = with_store(settings, work)
    except USCallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{report.records} call records from {first} to {last}: {report.new} new, "
        f"{report.linked} linked to requests"
    )
    return 0
