"""The suite itself: what makes its verdict depend on the code alone."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import RedisServer, Server


def test_property_tests_draw_the_same_inputs_on_every_run():
    drawn: list[list[str]] = [[], []]

    def draw(into: list[str]) -> None:
        @given(st.text(min_size=1))
        def record(text: str) -> None:
            into.append(text)

        record()

    draw(drawn[0])
    draw(drawn[1])  # another run, as CI's next one would be
    assert drawn[0] and drawn[0] == drawn[1]


def test_a_server_whose_port_is_taken_refuses_to_start_instead_of_borrowing_it(tmp_path: Path):
    """Readiness that cannot lie: the harness binds the port itself and hands the socket
    to the server (--fd), so a port something else holds is an error, never a server
    that seems ready because another one answers."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = Server(squatter.getsockname()[1], dict(os.environ), tmp_path / "server.log")
        with pytest.raises(RuntimeError, match="taken"):
            server.start()
        assert server.proc is None


def test_a_redis_server_is_ready_only_when_it_answers_as_itself(tmp_path: Path):
    first = RedisServer(tmp_path)
    first.start()
    try:
        second = RedisServer(tmp_path)
        second.port = first.port  # another test's server holds it
        with pytest.raises(RuntimeError):
            second.start()
        second.kill()
    finally:
        first.kill()
