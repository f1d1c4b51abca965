"""Wall board update latency: from a change in the PBX to the frame in a supervisor's tab.

Starts `callhub uscall-sim` and callhub (embedded: SQLite, in-process broker) on
loopback, logs a supervisor in and opens the board's websocket. Then, ROUNDS times, it
pauses or resumes an agent through USCall's own SOAP interface (startPause / endPause)
and times how long until a board frame shows that agent's new state. The poller asks
USCall every POLL seconds, so the latency is bounded by that interval plus the poll,
the diff, the render and the frame; p50 is expected near POLL/2.

    .venv/bin/python benchmarks/board.py --poll 2 --rounds 40
    .venv/bin/python benchmarks/board.py --poll 0.5 --rounds 100
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from callhub.adapters.uscall import USCallClient  # noqa: E402
from support import USCALL_TOKEN, Agent, Cluster, USCallSim, seed  # noqa: E402


async def run(poll: float, rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="callhub-board-"))
    url = f"sqlite+aiosqlite:///{tmp / 'callhub.db'}"
    await seed(url)
    sim = USCallSim(tmp)
    sim.start()
    cluster = Cluster(tmp, url)
    try:
        server = cluster.server(
            CALLHUB_USCALL_WSDL=sim.wsdl,
            CALLHUB_USCALL_TOKEN=USCALL_TOKEN,
            CALLHUB_BOARD_POLL_SECONDS=str(poll),
        )
        supervisor = await Agent(server, "supervisor").login()
        ws = await websockets.connect(
            server.url.replace("http", "ws") + "/ws/painel",
            additional_headers={"Cookie": supervisor.cookie},
        )
        pbx = await USCallClient.connect(sim.wsdl, USCALL_TOKEN)
        # The first full board.
        while 'id="a-104"' not in str(await ws.recv()):
            pass
        latencies: list[float] = []
        paused = False
        for _ in range(rounds):
            # Start at a random point of the poll cycle, as real changes do.
            await asyncio.sleep(random.uniform(0, poll))
            want = "state-available" if paused else "state-paused"
            started = time.perf_counter()
            if paused:
                await pbx.end_pause("104")
            else:
                await pbx.start_pause("104", "2")
            paused = not paused
            while True:
                frame = str(await asyncio.wait_for(ws.recv(), poll * 5 + 5))
                if f'<tr id="a-104" hx-swap-oob="true" class="{want}">' in frame:
                    latencies.append((time.perf_counter() - started) * 1000)
                    break
        await pbx.aclose()
        await ws.close()
        await supervisor.aclose()
        latencies.sort()
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        print(
            f"poll {poll:g} s, {rounds} changes: board latency p50 "
            f"{statistics.median(latencies):.0f} ms, p99 {p99:.0f} ms, max {latencies[-1]:.0f} ms,"
            f" min {latencies[0]:.0f} ms"
        )
    finally:
        cluster.stop()
        sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--poll", type=float, default=2.0, help="CALLHUB_BOARD_POLL_SECONDS")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(run(args.poll, args.rounds))


if __name__ == "__main__":
    main()
