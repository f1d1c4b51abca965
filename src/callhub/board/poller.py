"""The one poller that feeds every wall board, whichever process it runs in.

Every process runs this loop, and each round asks the broker for a lease: only the
holder polls (USCall's agentStatus, queueStatus and extenStatus, and callhub's own
records), so a PBX is polled once per interval however many processes serve the
board. The holder publishes on the "board" channel only the rows that changed, and
keeps the whole board in the broker for tabs that open later, in any process.

USCall says who waits in which queue, but not what became of them. The poller watches
each waiting caller: one who turns up as an agent's current call from that queue was
answered (after the wait last seen); one who leaves the queue otherwise abandoned. Each
is recorded as a call (source "uscall") beside the calls the other PBXs report, and
the day's counts per queue come from those records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from callhub.adapters.uscall import results as r
from callhub.adapters.uscall.client import USCallClient, USCallError
from callhub.adapters.uscall.link import USCallLink
from callhub.board.model import (
    AgentRow,
    Board,
    QueueRow,
    agent_state,
    changes,
    exten_state,
    plain,
)
from callhub.broker import Broker, BrokerUnavailable
from callhub.protocol import BOARD, AgentState, BoardChanges
from callhub.settings import Settings
from callhub.store import board as board_store
from callhub.store import calls
from callhub.store.engine import Store
from callhub.store.models import CallDirection

log = logging.getLogger("callhub.board")

LEASE = "board-poller"
# USCall's agent and queue names change rarely: asked again after this long.
NAMES_SECONDS = 60.0


@dataclass
class Waiter:
    queue: str
    number: str
    arrived: float
    last_seen: float
    gone_at: float | None = None


class BoardPoller:
    def __init__(
        self,
        *,
        broker: Broker,
        store: Store,
        settings: Settings,
        link: USCallLink | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.broker = broker
        self.store = store
        self.link = link
        self.interval = settings.board_poll_seconds
        self.target = settings.service_level_seconds
        self.zone = settings.zone
        self.clock = clock
        self.last: Board | None = None
        self._since: dict[str, tuple[str, float]] = {}
        self._waiting: dict[tuple[str, str], Waiter] = {}
        self._names: tuple[float, dict[str, str], dict[str, str]] = (0.0, {}, {})
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.leading = False

    # -- the loop --------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="callhub-board-poller")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        if self.leading:
            # Stopping: another process takes the board over on its next round, not
            # when the lease runs out (the wall board would stand still meanwhile).
            self.leading = False
            with contextlib.suppress(BrokerUnavailable):
                await self.broker.coordination.resign(LEASE)

    async def watched(self) -> bool:
        """Whether anyone needs the board now: a wall board open in any process, or, with
        USCall, the agents' own screens (they show each agent's USCall state)."""
        if self.link is not None:
            return True
        return (await self.broker.coordination.tab_counts([BOARD])).get(BOARD, 0) > 0

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                if not await self.watched():
                    # Nobody looks: no polling. A board that opens wakes the poller, and
                    # gets the whole board first.
                    self.last = None
                    await self._until_next_round(started + max(0.05, self.interval))
                    continue
                leading = await self.broker.coordination.lead(LEASE, max(3 * self.interval, 5.0))
                if leading and not self.leading:
                    log.info("this process now polls the wall board")
                    self.last = None  # a new leader sends the whole board first
                self.leading = leading
                if leading:
                    await self.poll_once()
            except BrokerUnavailable as exc:
                log.warning("wall board not published: %s", exc)
                self.leading = False
            except Exception:
                log.exception("wall board poll failed")
            await self._until_next_round(started + max(0.05, self.interval))

    def wake(self) -> None:
        """Requests changed (in any process): the leader refreshes their counts now."""
        self._wake.set()

    async def _until_next_round(self, when: float) -> None:
        while (remaining := when - time.monotonic()) > 0:
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                return
            self._wake.clear()
            if self.last is None:
                return  # idle until now: a full round at once
            if self.leading:
                try:
                    await self.refresh_requests()
                except Exception:
                    log.exception("wall board counts not refreshed")

    def _midnight(self, now: float) -> datetime:
        """Where "today" starts for the board's counts (CALLHUB_TIMEZONE)."""
        return datetime.fromtimestamp(now, self.zone).replace(
            hour=0, minute=0, second=0, microsecond=0
        )

    async def refresh_requests(self) -> Board:
        """Only the requests' counts, read again and published: no PBX is asked."""
        assert self.last is not None
        now = self.clock()
        midnight = self._midnight(now)
        counts = await self.store.read(
            lambda s: board_store.request_counts(session=s, since=midnight)
        )
        board = replace(self.last, requests=counts)
        await self._share(board)
        self.last = board
        return board

    async def poll_once(self) -> Board:
        board = await self.build()
        await self._share(board)
        await self._tell_agents(self.last, board)
        self.last = board
        return board

    async def _share(self, board: Board) -> None:
        """Keep the whole board for tabs that open later; publish what changed."""
        await self.broker.coordination.put(BOARD, board.to_json(), max(10 * self.interval, 30.0))
        await self.broker.messaging.publish(BoardChanges(changes(self.last, board)))

    async def _tell_agents(self, old: Board | None, new: Board) -> None:
        """Each agent's own tab shows the agent's USCall state: send it the rows that
        changed (and "logged out" to an extension an agent has left)."""
        if new.source != "uscall":
            return
        before = old.agents if old and old.source == "uscall" else {}
        for key, row in new.agents.items():
            was = before.get(key)
            if was == row:
                continue
            if was is not None and was.ramal and was.ramal != row.ramal:
                await self.broker.messaging.publish(AgentState(was.ramal, None))
            if row.ramal:
                await self.broker.messaging.publish(AgentState(row.ramal, plain(row)))

    # -- building a board ------------------------------------------------------------

    async def build(self) -> Board:
        now = self.clock()
        board = Board(
            updated_at=now,
            uscall_configured=self.link is not None,
            service_level_seconds=self.target,
        )
        if self.link is not None:
            try:
                client = self.link.require()
                await self._from_uscall(client, board, now)
                board.source = "uscall"
            except USCallError as exc:
                self.link.error = str(exc)
                previous = self.last
                if previous is not None and previous.source == "uscall":
                    # Keep the last rows seen, with their age and the warning.
                    board = replace(
                        previous, queues=dict(previous.queues), agents=dict(previous.agents)
                    )
                board.error = str(exc)
                board.error_since = (
                    previous.error_since if previous and previous.error_since else now
                )
            else:
                self.link.error = None
        midnight = self._midnight(now)
        days, extensions, board.requests, chosen = await self.store.read(
            lambda s: (
                board_store.queue_day(session=s, since=midnight, target_seconds=self.target),
                board_store.extension_day(session=s, since=midnight),
                board_store.request_counts(session=s, since=midnight),
                board_store.board_settings(session=s),
            )
        )
        # The rows are the configured queues: USCall's, and those the supervisor listed.
        # A queue named only in a call (a test pop's fila) is not a row. The rows are
        # copies: a board kept from the last round (USCall down) shares its rows with it.
        board.queues = {key: replace(row) for key, row in board.queues.items()}
        key_of = {q.name: k for k, q in board.queues.items()}
        for name in chosen.queues:
            if name not in key_of and name not in board.queues:
                board.queues[name] = QueueRow(key=name, name=name)
                key_of[name] = name
        for name, day in days.items():
            key = key_of.get(name, name)
            row = board.queues.get(key)
            if row is None:
                continue
            row.offered, row.answered = day.offered, day.answered
            row.abandoned, row.in_progress = day.abandoned, day.in_progress
            row.within_target = day.within_target
        for row in board.queues.values():
            row.settle(chosen)
        if board.source != "uscall" and not board.agents:
            await self._from_callhub(board, extensions, now)
        else:
            for agent in board.agents.values():
                ext = extensions.get(agent.ramal)
                if ext is not None and agent.user is None:
                    agent.user = ext.user
        return board

    async def _from_uscall(self, client: USCallClient, board: Board, now: float) -> None:
        agents, queues, extens = await asyncio.gather(
            client.agent_status(), client.queue_status(), client.exten_status()
        )
        agent_names, queue_names = await self._names_of(client, now)
        exten_by_num = {e.ramal: e for e in extens}
        for q in queues:
            waits = [w.tempo for w in q.numeros]
            board.queues[q.fila] = QueueRow(
                key=q.fila,
                name=queue_names.get(q.fila, q.fila),
                waiting=q.espera if q.espera or not waits else len(waits),
                longest_since=now - max(waits) if waits else None,
            )
        for a in agents:
            state = agent_state(a.status)
            exten = exten_by_num.get(a.ramal)
            if exten is not None and state == "available":
                seen = exten_state(exten.status)
                state = seen if seen in ("ringing", "busy", "exten_down") else state
            row = AgentRow(
                key=a.num,
                name=agent_names.get(a.num, a.num),
                ramal=a.ramal,
                state=state,
                since=self._state_since(a.num, state, now),
                pause=a.pausa,
                number=a.numero,
                talk_since=now - a.tempo if a.tempo is not None and a.numero else None,
                received=a.recebidas,
                made=a.efetuadas,
                queues=a.filas,
            )
            board.agents[a.num] = row
            if state == "logged_out":
                continue
            for fila in a.filas:
                q_row = board.queues.get(fila)
                if q_row is None:
                    continue
                q_row.logged_in += 1
                if state == "available":
                    q_row.available += 1
                elif state in ("busy", "ringing"):
                    q_row.busy += 1
                elif state == "paused":
                    q_row.paused += 1
        await self._follow_waiters(queues, agents, queue_names, now)

    async def _names_of(
        self, client: USCallClient, now: float
    ) -> tuple[dict[str, str], dict[str, str]]:
        asked, agents, queues = self._names
        if now - asked > NAMES_SECONDS or not agents:
            agent_list, queue_list = await asyncio.gather(client.get_agent(), client.get_queue())
            agents = {a.num: a.nome for a in agent_list}
            queues = {q.fila: q.nome for q in queue_list}
            self._names = (now, agents, queues)
        return agents, queues

    def _state_since(self, key: str, state: str, now: float) -> float:
        known = self._since.get(key)
        if known is None or known[0] != state:
            self._since[key] = (state, now)
            return now
        return known[1]

    async def _follow_waiters(
        self,
        queues: list[r.QueueStatus],
        agents: list[r.AgentStatus],
        names: dict[str, str],
        now: float,
    ) -> None:
        """Record each caller who left a queue: answered, or abandoned."""
        present: set[tuple[str, str]] = set()
        for q in queues:
            for w in q.numeros:
                key = (q.fila, w.numero)
                present.add(key)
                waiter = self._waiting.get(key)
                if waiter is None:
                    self._waiting[key] = Waiter(q.fila, w.numero, now - w.tempo, now)
                else:
                    waiter.last_seen, waiter.gone_at = now, None
        talking = {(a.atendfila, a.numero): a for a in agents if a.numero}
        records: list[tuple[str, dict[str, Any]]] = []
        for key, waiter in list(self._waiting.items()):
            if key in present:
                continue
            agent = talking.get(key)
            if agent is None and waiter.gone_at is None:
                # Give the agent's side one more round to show the call.
                waiter.gone_at = now
                continue
            del self._waiting[key]
            arrived = datetime.fromtimestamp(waiter.arrived, UTC)
            values: dict[str, Any] = {
                "number": waiter.number,
                "queue": names.get(waiter.queue, waiter.queue),
                "started_at": arrived,
                "direction": CallDirection.receptive,
                "wait_seconds": round(waiter.last_seen - waiter.arrived),
            }
            if agent is not None:
                values.update(ramal=agent.ramal, status="ATENDIDA")
                external = agent.idcall or f"{waiter.queue}:{waiter.number}:{int(waiter.arrived)}"
            else:
                values.update(status="ABANDONO", ended_at=datetime.fromtimestamp(now, UTC))
                external = f"{waiter.queue}:{waiter.number}:{int(waiter.arrived)}"
            records.append((external, values))
        if records:

            def work(session: Session) -> None:
                for external, values in records:
                    calls.adopt_for_uscall(session=session, external_id=external[:64])
                    calls.merge_record(
                        session=session,
                        source="uscall",
                        external_id=external[:64],
                        values=values,
                        newer_wins=True,
                    )
                session.commit()

            await self.store.run(work)

    async def _from_callhub(
        self, board: Board, extensions: dict[str, board_store.ExtensionDay], now: float
    ) -> None:
        """Agents as callhub knows them: a tab open on their extension, an open call."""
        channels = [f"ext:{ramal}" for ramal in extensions]
        tabs = await self.broker.coordination.tab_counts(channels) if channels else {}
        for ramal, ext in sorted(extensions.items()):
            online = tabs.get(f"ext:{ramal}", 0) > 0
            state = "busy" if ext.call_since else "available" if online else "logged_out"
            key = "r" + ramal
            board.agents[key] = AgentRow(
                key=key,
                name=ext.user or ramal,
                user=ext.user,
                ramal=ramal,
                state=state,
                since=self._state_since(key, state, now),
                number=ext.number,
                talk_since=ext.call_since.timestamp() if ext.call_since else None,
                received=ext.received,
                made=ext.made,
            )
