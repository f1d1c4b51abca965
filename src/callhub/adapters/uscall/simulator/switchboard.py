"""The simulated PBX's state and its time: agents, extensions, queues and calls, and what
happens as time moves (`tick(now)`): callers wait, abandon, ring a free agent, talk, and
leave a CDR."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable
from typing import Any

from callhub.adapters.uscall.simulator.model import (
    RING_SECONDS,
    Agent,
    Call,
    Cdr,
    Exten,
    Pause,
    PbxError,
    Queue,
    Ura,
    local,
)


class Switchboard:
    def __init__(
        self,
        token: str,
        *,
        clock: Callable[[], float],
        rng: random.Random | None = None,
        on_ring: Callable[[Call], None] | None = None,
    ) -> None:
        self.token = token
        self.clock = clock
        self.rng = rng or random.Random()
        self.on_ring = on_ring
        self.agents: dict[str, Agent] = {}
        self.extens: dict[str, Exten] = {}
        self.queues: dict[str, Queue] = {}
        self.pauses: dict[str, Pause] = {}
        self.trunks: list[dict[str, str]] = []
        self.uras: dict[str, Ura] = {}
        self.calls: list[Call] = []  # on extensions or dialling (not waiting in a queue)
        self.cdrs: list[Cdr] = []
        self.ura_cdrs: list[dict[str, Any]] = []
        # Calls of each function received, for the control page (and the tests).
        self.requests: dict[str, int] = {}
        self._ids = itertools.count(int(clock()) * 100)

    @staticmethod
    def _required(**values: str) -> None:
        for name, value in values.items():
            if not value:
                raise PbxError(f"Parâmetro obrigatório não informado: {name}")

    @staticmethod
    def ok(message: str, **extra: Any) -> dict[str, Any]:
        return {"status": "ok", "mensagem": message, **extra}

    def _dial_rule(self, categoria: str, number: str) -> None:
        if categoria not in {"1", "2"}:
            raise PbxError(f"Categoria {categoria} não encontrada")
        if not re.fullmatch(r"\d{2,15}", number):
            raise PbxError(f"Número {number} fora da regra de discagem da categoria {categoria}")

    def _agent(self, num: str) -> Agent:
        agent = self.agents.get(num)
        if agent is None:
            raise PbxError(f"Agente {num} não encontrado")
        return agent

    def _logged(self, num: str) -> Agent:
        agent = self._agent(num)
        if agent.ramal is None:
            raise PbxError(f"Agente {num} não está logado")
        return agent

    def _exten(self, num: str) -> Exten:
        exten = self.extens.get(num)
        if exten is None:
            raise PbxError(f"Ramal {num} não encontrado")
        return exten

    def _count_day(self, agent: Agent) -> None:
        day = local(self.clock())[:10]
        if agent.day != day:
            agent.day, agent.received, agent.made = day, 0, 0

    def arrive(
        self, queue: str, number: str, *, talk: float | None = None, patience: float | None = None
    ) -> Call:
        """A caller dials in and waits in `queue`."""
        q = self.queues[queue]
        call = Call(
            self._new_id(),
            "Recebida",
            number,
            q.ddr or q.num,
            self._trunk(),
            ddr=q.ddr or "",
            queue=q.num,
            arrived=self.clock(),
            talk_seconds=talk if talk is not None else self.rng.uniform(15, 60),
            patience=patience if patience is not None else self.rng.uniform(20, 90),
        )
        q.waiting.append(call)
        return call

    def tick(self) -> None:
        now = self.clock()
        for q in self.queues.values():
            for call in list(q.waiting):
                if call.arrived <= now and now - call.arrived > call.patience:
                    q.waiting.remove(call)
                    self._record(call, status="ABANDONO", end=now)
            while q.waiting and q.waiting[0].arrived <= now:
                agent = self._free_agent(q.num)
                if agent is None:
                    break
                call = q.waiting.pop(0)
                exten = self.extens[agent.ramal or ""]
                call.ramal, call.agent, call.ringing_since = exten.num, agent.num, now
                exten.call = call
                self.calls.append(call)
                if self.on_ring is not None:
                    self.on_ring(call)
        for call in list(self.calls):
            if call.answered is None:
                if call.dialling_until is not None and now >= call.dialling_until:
                    call.answered = now
                elif call.ringing_since is not None and now - call.ringing_since >= RING_SECONDS:
                    call.answered = now
                    agent = self.agents.get(call.agent or "")
                    if agent is not None:
                        self._count_day(agent)
                        agent.received += 1
            elif now - call.answered >= call.talk_seconds:
                self._finish(call, now)

    def _free_agent(self, queue: str) -> Agent | None:
        free = [
            a
            for a in self.agents.values()
            if a.ramal
            and queue in a.queues
            and a.pause is None
            and self.extens[a.ramal].call is None
        ]
        return free[0] if free else None

    def _finish(self, call: Call, now: float) -> None:
        if call in self.calls:
            self.calls.remove(call)
        for e in self.extens.values():
            if e.call is call:
                e.call = None
            if e.monitoring is call:
                e.monitoring = None
        status = "COMPLETADA" if call.answered is not None else "NÃO ATENDIDA"
        self._record(call, status=status, end=now)

    def _record(self, call: Call, *, status: str, end: float) -> None:
        answered = call.answered
        wait = (answered if answered is not None else end) - call.arrived
        talk = end - answered if answered is not None else 0.0
        self.cdrs.append(
            Cdr(
                id=call.id,
                when=call.arrived,
                kind=call.kind,
                ddr=call.ddr,
                origin=call.origin,
                destination=call.destination
                if call.kind == "Efetuada"
                else call.ramal or call.destination,
                trunk=call.trunk,
                wait=max(0, wait),
                duration=max(0, end - call.arrived),
                status=status,
                idcti=call.idcti,
                ramal=call.ramal,
                queue=call.queue,
                talk=max(0, talk),
                audio=f"{call.id}.wav" if answered is not None else "",
            )
        )

    def _agent_on(self, ramal: str) -> Agent | None:
        return next((a for a in self.agents.values() if a.ramal == ramal), None)

    def _trunk(self) -> str:
        return self.rng.choice(self.trunks)["nome"] if self.trunks else ""

    def _new_id(self) -> str:
        return f"{next(self._ids)}.{self.rng.randrange(1000)}"
