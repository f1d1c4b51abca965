from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callhub.settings import ConfigError, Settings
from support import PASSWORD, Cluster, api_call, api_login, run_cli


def callhub(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {
        "PATH": "/usr/bin:/bin",
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
        "CALLHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'cli.db'}",
    }
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "callhub.cli", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def cli_here(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli({"CALLHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'cli.db'}"}, *args)


def test_import_requesters_reports_and_is_idempotent(tmp_path: Path):
    csv = tmp_path / "requesters.csv"
    csv.write_text(
        "cpf,name,email,phone\n"
        "529.982.247-25,Maria da Silva,maria@example.com,(11) 98765-4321\n"
        "123.456.789-00,CPF Errado,,\n"
        "11144477735,,joao@example.com,\n"
        "39053344705,Ana,ana@example.com,abc\n"
        "52998224725,Maria Repetida,,\n",
        encoding="utf-8",
    )
    first = cli_here(tmp_path, "import-requesters", str(csv))
    assert first.returncode == 1, first.stderr
    assert "line 3: rejected: cpf '123.456.789-00' fails its check digits" in first.stdout
    assert "line 4: rejected: name is empty" in first.stdout
    assert "line 5: rejected: phone 'abc' is not a phone number" in first.stdout
    assert "line 6: rejected: cpf repeats line 2" in first.stdout
    assert "1 created, 0 updated, 4 rejected" in first.stdout
    again = cli_here(tmp_path, "import-requesters", str(csv))
    assert "0 created, 1 updated, 4 rejected" in again.stdout


def test_import_requesters_needs_the_columns(tmp_path: Path):
    csv = tmp_path / "bad.csv"
    csv.write_text("cpf,nome\n52998224725,Maria\n", encoding="utf-8")
    result = cli_here(tmp_path, "import-requesters", str(csv))
    assert result.returncode == 2 and "missing columns" in result.stderr


def test_createuser_and_serve_refuses_without_secrets(tmp_path: Path):
    ok = callhub(
        tmp_path,
        "createuser",
        "ana",
        "--password",
        "segredo123",
        "--role",
        "supervisor",
        "--can-execute",
    )
    assert ok.returncode == 0 and "ana (supervisor, can execute) saved" in ok.stdout
    short = callhub(tmp_path, "createuser", "bia", "--password", "curta", "--role", "agent")
    assert short.returncode == 2
    refused = callhub(tmp_path, "serve", "--port", "1")
    assert refused.returncode == 2 and "CALLHUB_SECRET_KEY" in refused.stderr


def test_serve_refuses_several_workers_that_would_not_share_their_tabs(tmp_path: Path):
    secrets = {"CALLHUB_SECRET_KEY": "k" * 40, "CALLHUB_PBX_TOKEN": "t" * 40}
    for broker in ({}, {"CALLHUB_BROKER_URL": "memory://"}):
        refused = callhub(
            tmp_path, "serve", "--port", "1", "--workers", "2", env={**secrets, **broker}
        )
        assert refused.returncode == 2, refused.stderr
        assert "--workers" in refused.stderr and "CALLHUB_BROKER_URL" in refused.stderr
    unknown = callhub(
        tmp_path, "serve", "--port", "1", env={**secrets, "CALLHUB_BROKER_URL": "amqp://mq"}
    )
    assert unknown.returncode == 2 and "CALLHUB_BROKER_URL" in unknown.stderr


def test_the_broker_url_under_its_old_name_still_works_with_a_warning(
    caplog: pytest.LogCaptureFixture,
):
    old = Settings.from_env({"CALLHUB_REDIS_URL": "redis://old:6379/0"})
    assert old.broker_url == "redis://old:6379/0" and old.shared_broker
    assert "CALLHUB_BROKER_URL" in caplog.text
    new = Settings.from_env({"CALLHUB_BROKER_URL": "redis://new:6379/0"})
    assert new.broker_url == "redis://new:6379/0"
    with pytest.raises(ConfigError, match="CALLHUB_BROKER_URL"):
        Settings.from_env(
            {"CALLHUB_BROKER_URL": "redis://new:6379/0", "CALLHUB_REDIS_URL": "redis://old/0"}
        )
    assert not Settings.from_env({}).shared_broker


@pytest.mark.long
async def test_an_operator_provisions_an_integrator_from_the_command_line(tmp_path: Path):
    """A fresh install has no groups: `callhub group` gives an integrator its operations,
    its platform (no one else may log in as it) and every request, idempotently, and
    refuses unknown names before writing anything."""

    async def command(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(cli_here, tmp_path, *args)

    assert (await command("createuser", "erp", "--password", PASSWORD)).returncode == 0
    assert (await command("createuser", "outro", "--password", PASSWORD)).returncode == 0
    provision = ("group", "ERP", "--name", "Integração ERP", "--grant", "all",
                 "--member", "erp", "--platform", "ERP", "--all-requests")  # fmt: skip
    first = await command(*provision)
    assert first.returncode == 0, first.stderr
    assert "ERP  Integração ERP" in first.stdout and "requests:   all" in first.stdout
    assert "platforms:  ERP" in first.stdout and "members:    erp" in first.stdout
    again = await command(*provision)
    assert again.returncode == 0 and again.stdout == first.stdout

    refused = await command("group", "ERP", "--revoke", "v2/contracts", "nope/nada",
                            "--member", "fantasma")  # fmt: skip
    assert refused.returncode == 2 and "nope/nada" in refused.stderr
    refused = await command("group", "ERP", "--revoke", "v2/contracts", "--member", "fantasma")
    assert refused.returncode == 2 and "fantasma" in refused.stderr
    assert (await command("group", "--list")).stdout.strip() == first.stdout.strip()

    revoked = await command("group", "ERP", "--revoke", "v2/contracts")
    assert revoked.returncode == 0 and " v2/contracts" not in revoked.stdout
    assert (await command("group", "ERP", "--grant", "v2/contracts")).stdout == first.stdout

    cluster = Cluster(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    try:
        server = await cluster.app_server()
        sid = await api_login(server, "erp", "ERP")
        await api_call(server, "v2/contracts", {"sessionID": sid})
        taken = await api_call(
            server, "login", {"userName": "outro", "password": PASSWORD, "platform": "erp"},
            status=403,
        )  # fmt: skip
        assert taken["error"]["code"] == "PLATFORM_NOT_ALLOWED"
        assert taken["error"]["field"] == "platform"
        await api_login(server, "outro", "OUTRA")  # a platform nobody reserved is open
    finally:
        await cluster.aclose()


def test_serve_on_a_given_socket_turns_nagles_algorithm_off_for_its_connections():
    """uvicorn takes a socket given by descriptor (--fd) for a Unix one and leaves Nagle's
    algorithm on; callhub serve turns it off on the listening socket, which the
    connections inherit, so an answer written in two parts does not wait 40 ms."""
    import socket

    from callhub.cli.serve import _no_delay

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        _no_delay(listening.fileno())
        assert listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        with socket.create_connection(listening.getsockname()):
            accepted, _address = listening.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
