"""`callhub simulate 55pbx`: plays call sequences as 55pbx would push them.

Calls arrive at random (a Poisson process at the rate asked). Each one pushes its start,
then, after the conversation, its end, as 55pbx does; some are transferred to another
extension (the third push, then the new call's own pushes), some are SMS, some outbound.
Callers are the demo's requesters (identified by the number or the CPF typed in the IVR,
sometimes with the number of one of their requests) or strangers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

# The demo's requesters (callhub demo): number as 55pbx splits it, and the CPF.
KNOWN_CALLERS = [
    ("11", "987654321", "52998224725"),
    ("21", "34567890", "11144477735"),
    ("31", "998765432", "39053344705"),
    ("11", "33334444", "11222333000181"),
]
QUEUES = ["Suporte N1", "Financeiro", "Comercial", "Suporte N2"]
DISCONNECTIONS = ["cliente", "agente", "externo"]


@dataclass
class Plan:
    to: str
    token: str
    calls_per_minute: float
    extensions: list[str]
    talk: tuple[float, float] = (8.0, 40.0)
    count: int | None = None
    zone: str = "America/Sao_Paulo"
    seed: int | None = None


@dataclass
class Stats:
    pushes: int = 0
    failed: int = 0
    popped: int = 0
    calls: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class Simulator:
    def __init__(
        self,
        plan: Plan,
        *,
        client: httpx.AsyncClient | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.plan = plan
        self.client = client or httpx.AsyncClient(timeout=10)
        self.log = log
        self.random = random.Random(plan.seed)
        self.stats = Stats()
        self._ids = itertools.count(1)
        self._prefix = f"sim{int(time.time())}"
        self._zone = ZoneInfo(plan.zone)

    def _call_id(self) -> str:
        return f"{self._prefix}.{next(self._ids)}"

    def _now(self) -> str:
        return datetime.now(self._zone).strftime("%Y-%m-%d %H:%M:%S")

    async def push(self, record: dict[str, Any]) -> None:
        method = self.random.choice(["POST", "PUT"])
        try:
            r = await self.client.request(
                method,
                self.plan.to,
                content=json.dumps(record),
                headers={"token": self.plan.token, "content-type": "application/json"},
            )
        except httpx.HTTPError as exc:
            self.stats.failed += 1
            self.log(f"{record['call_id']}: {exc!r}")
            return
        self.stats.pushes += 1
        self.stats.statuses[r.status_code] = self.stats.statuses.get(r.status_code, 0) + 1
        detail = r.text[:200]
        if r.status_code == 200:
            answer = r.json()
            self.stats.popped += answer.get("popped", 0)
            detail = (
                f"{answer.get('phase')}: popped {answer.get('popped')},"
                f" delivered {answer.get('delivered')}"
            )
        else:
            self.stats.failed += 1
        self.log(
            f"{method} {record['call_id']} {record.get('call_type')} "
            f"ramal {record.get('branch_mask')}: {r.status_code} {detail}"
        )

    def _record(self, call_id: str, ramal: str, kind: str) -> dict[str, Any]:
        rnd = self.random
        if rnd.random() < 0.75:
            area, number, document = rnd.choice(KNOWN_CALLERS)
            typed = document if rnd.random() < 0.5 else ""
        else:
            area, number, typed = rnd.choice(["11", "19", "48"]), f"9{rnd.randrange(10**8):08d}", ""
        return {
            "central_id": "1000",
            "branch_mask": int(ramal),
            "call_id": call_id,
            "call_date": self._now(),
            "call_terminal": "1133330000",
            "call_type": kind,
            "call_number": number,
            "call_area_code": area,
            "call_country_code": "55",
            "call_document": typed,
            "call_order": str(rnd.choice([1, 2, 3])) if typed and rnd.random() < 0.3 else "",
            "call_ura": rnd.choice(["1", "1-2", "2-1", "3"]),
            "call_queue": rnd.choice(QUEUES),
            "call_status": "",
            "call_disconnection": "",
            "call_time": 0,
            "call_duration": 0,
            "call_time_waiting": rnd.randrange(3, 90),
            "call_url_audio": "",
            "call_audio_file": "",
            "call_transfer_id": "",
        }

    def _ended(self, record: dict[str, Any], talked: float) -> dict[str, Any]:
        rnd = self.random
        seconds = max(1, round(talked))
        audio = f"audio-{record['call_id']}.wav"
        return {
            **record,
            "call_status": "atendida",
            "call_disconnection": rnd.choice(DISCONNECTIONS),
            "call_time": seconds,
            "call_duration": seconds + int(record["call_time_waiting"]),
            "call_tax_type": "VC1",
            "call_tax": 0.12,
            "call_cost": round(0.12 * (seconds / 60 + 1), 2),
            "call_balance": round(rnd.uniform(1000, 5000), 2),
            "call_url_audio": f"https://sip1.55pbx.com/webphone-1000/{audio}",
            "call_audio_file": audio,
        }

    def _talk(self) -> float:
        low, high = self.plan.talk
        return self.random.uniform(low, high)

    async def call(self) -> None:
        """One call's pushes, in order, with the conversation's pauses between them."""
        rnd = self.random
        self.stats.calls += 1
        ramal = rnd.choice(self.plan.extensions)
        roll = rnd.random()
        if roll < 0.05:
            sms = {**self._record(self._call_id(), ramal, "sms"), "call_cost": 0.09}
            await self.push(sms)
            return
        kind = "ativo" if roll < 0.15 else "receptivo"
        first = self._record(self._call_id(), ramal, kind)
        await self.push(first)
        talked = self._talk()
        await asyncio.sleep(talked)
        others = [e for e in self.plan.extensions if e != ramal]
        if kind == "receptivo" and others and rnd.random() < 0.15:
            # Transferred: the first leg's final push names the new call, which then rings
            # on another extension and has its own start and end.
            second_id = self._call_id()
            await self.push({**self._ended(first, talked), "call_transfer_id": second_id})
            second = {**first, "call_id": second_id, "branch_mask": int(rnd.choice(others))}
            second["call_date"] = self._now()
            await self.push(second)
            talked = self._talk()
            await asyncio.sleep(talked)
            await self.push(self._ended(second, talked))
            return
        await self.push(self._ended(first, talked))

    async def run(self) -> Stats:
        tasks: set[asyncio.Task[None]] = set()
        rate = self.plan.calls_per_minute / 60.0
        try:
            for n in itertools.count():
                if self.plan.count is not None and n >= self.plan.count:
                    break
                task = asyncio.create_task(self.call())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                await asyncio.sleep(self.random.expovariate(rate))
            if tasks:
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        return self.stats

    async def aclose(self) -> None:
        await self.client.aclose()
