"""The wall board as the poller last shared it (in the broker, for every process)."""

from __future__ import annotations

from callhub.board.model import Board
from callhub.broker import Broker, BrokerUnavailable
from callhub.protocol import BOARD


async def read_board(
    broker: Broker, *, uscall_configured: bool, service_level_seconds: int
) -> Board:
    """The last board shared; an empty one before the first poll, or while the broker is
    down."""
    try:
        raw = await broker.coordination.get(BOARD)
    except BrokerUnavailable:
        raw = None
    if raw is None:
        return Board(
            uscall_configured=uscall_configured, service_level_seconds=service_level_seconds
        )
    return Board.from_json(raw)
