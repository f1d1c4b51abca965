"""Helpers for tests with real components: uvicorn processes, redis-server, clients."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar
from unittest import mock

import asyncpg
import httpx
import websockets
from sqlmodel import Session

from callhub.cli.demo import seed_demo
from callhub.store import users
from callhub.store.engine import Store
from callhub.store.models import Role

T = TypeVar("T")
PBX_TOKEN = "test-pbx-token-0123456789"
PBX55_TOKEN = "test-55pbx-token-9876543210"
SECRET = "test-secret-key-0123456789abcdef"
PASSWORD = "callhub-demo"


# httpx loads the CA bundle into a new SSL context for every client (about 30 ms); the
# tests make thousands of short-lived clients, so they share one context.
TLS = ssl.create_default_context()


def http_client(**kwargs: Any) -> httpx.AsyncClient:
    kwargs.setdefault("verify", TLS)
    return httpx.AsyncClient(**kwargs)


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(http: httpx.AsyncClient) -> str:
    """The session's CSRF token, as the login page's form carries it."""
    page = await http.get("/login")
    found = CSRF_INPUT.search(page.text)
    assert found, page.text
    return found.group(1)


async def web_login(
    http: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    """Log in through the form, as a browser does; later requests send the session's new
    CSRF token in the header htmx uses."""
    token = await csrf_token(http)
    r = await http.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, **extra},
    )
    if r.status_code == 303:
        http.headers["X-CSRF-Token"] = await csrf_token(http)
    return r


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_answer(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Until the server on `port` answers an HTTP request (any status: the floor has no
    /healthz); a server that exits meanwhile is an error at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.02)
        finally:
            connection.close()
    raise TimeoutError(f"the server on {port} did not answer")


def wait_for_redis(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Until the redis-server on `port` answers as this process (INFO names its pid): not
    another test's server that took the port meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5) as conn:
                conn.sendall(b"INFO server\r\n")
                answer = b""
                while b"process_id:" not in answer or not answer.endswith(b"\r\n\r\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
        except OSError:
            time.sleep(0.02)
            continue
        found = re.search(rb"process_id:(\d+)", answer)
        if found is not None and int(found.group(1)) == proc.pid:
            return
        if found is not None:
            raise RuntimeError(f"port {port} is another redis-server's (pid {found.group(1)!r})")
        time.sleep(0.02)
    raise TimeoutError(f"redis-server on {port} did not answer")


def run_sync(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from plain code (a sync fixture), on a loop of its own."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        loop.close()


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A `callhub` command run in this process (`callhub.cli.main`), with `env` added to
    the environment: for what the command does, not how the interpreter starts (about a
    second a run). From a test's event loop, through asyncio.to_thread: commands run
    their own loop."""
    from callhub.cli import main

    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(list(args))
        except SystemExit as exit:  # argparse's refusals
            code = int(exit.code or 0)
    return subprocess.CompletedProcess(["callhub", *args], code, out.getvalue(), err.getvalue())


async def seed(database_url: str) -> None:
    def work(session: Session) -> None:
        seed_demo(session)
        users.create_user(
            session=session,
            username="agente3",
            password=PASSWORD,
            role=Role.agent,
            name="Carla Agente",
            can_execute=True,
        )
        session.commit()

    store = Store(database_url)
    try:
        await store.migrate()
        await store.run(work)
    finally:
        await store.dispose()


def terminate(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Address:
    """Where a callhub server answers on loopback."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/atendimento"


def listening_socket(port: int, sndbuf: int | None = None) -> socket.socket:
    """A socket listening on `port`, for a server to take over; its connections inherit
    TCP_NODELAY (uvicorn, given a socket by descriptor, cannot tell it is TCP and would
    leave Nagle's algorithm on: 40 ms on every split write) and `sndbuf`."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"port {port} is taken by something else: {exc}") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if sndbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.listen(512)
    return sock


@dataclass
class Server(Address):
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    _log_file: IO[bytes] | None = None
    # Another ASGI app under the same uvicorn options (the benchmark's bare floor).
    app: str = "callhub.app:app"
    app_dir: Path | None = None
    # Started as users start it, `callhub serve` (its own proxy and websocket settings).
    cli: bool = False
    # The send buffer of each connection's socket (None: the kernel's, which grows to MBs).
    sndbuf: int | None = None

    def start(self) -> None:
        """Start the server on a socket bound here and handed over (`--fd`): the port is
        ours from the first moment, so whatever answers on it is this server, never
        another test's; ready once it answers HTTP."""
        listening = listening_socket(self.port, self.sndbuf)
        fd = listening.fileno()
        listening.set_inheritable(True)
        if self.cli:
            command = [sys.executable, "-m", "callhub.cli", "serve", "--fd", str(fd)]
            env = {**self.env, "CALLHUB_LOG_LEVEL": "warning"}
        else:
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                self.app,
                *(["--app-dir", str(self.app_dir)] if self.app_dir else []),
                "--fd",
                str(fd),
                "--ws-per-message-deflate",
                "false",
                "--timeout-graceful-shutdown",
                "3",
                "--log-level",
                "warning",
            ]
            env = self.env
        try:
            self.proc = subprocess.Popen(
                command, env=env, stdout=self._open_log(), stderr=subprocess.STDOUT, pass_fds=(fd,)
            )
        finally:
            listening.close()  # the server's copy is the one that stays open
        wait_for_answer(self.port, proc=self.proc)

    def _open_log(self) -> IO[bytes]:
        if self._log_file is None:
            self._log_file = self.log.open("ab")
        return self._log_file

    def stop(self) -> None:
        terminate(self.proc)
        self.proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class Served(Protocol):
    """A callhub server, in a process of its own or in the test's loop."""

    @property
    def url(self) -> str: ...

    @property
    def ws_url(self) -> str: ...


@dataclass
class AppServer(Address):
    """callhub served by uvicorn in the test's own event loop: the same app and uvicorn
    options as `callhub serve`, a real socket, without a process to start (about a second
    each). For what needs a process of its own (a kill, a restart, several workers), use
    `Server`. The test's client must not block the loop: the server runs on it."""

    env: dict[str, str]
    # What the app's startup does to the whole process (gc.freeze): off, as other apps
    # share the process; on for a test of that startup.
    process_wide: bool = False
    app: Any = None
    _server: Any = None
    _socket: Any = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        import uvicorn

        from callhub.app import create_app
        from callhub.cli.serve import options
        from callhub.settings import Settings

        listening = listening_socket(self.port)
        settings = Settings.from_env(self.env)
        self.app = create_app(settings, process_wide=self.process_wide)
        config = uvicorn.Config(self.app, **{**options(settings), "log_level": "warning"})
        self._server = uvicorn.Server(config)
        self._socket = listening
        self._task = asyncio.create_task(self._server.serve(sockets=[listening]))
        deadline = time.monotonic() + 15
        while not self._server.started:
            if self._task.done():
                self._task.result()  # startup failed: its error
                raise RuntimeError("the in-process server stopped before it started")
            if time.monotonic() > deadline:
                raise RuntimeError("the in-process server did not start in 15 s")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(self._task, 15)
        finally:
            self._task = None
            self._socket.close()


@dataclass
class Cluster:
    """One database (and, optionally, one Redis) shared by the servers started here."""

    tmp: Path
    database_url: str
    broker_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)
    in_process: list[AppServer] = field(default_factory=list)

    def server(
        self, port: int | None = None, *, cli: bool = True, sndbuf: int | None = None, **env: str
    ) -> Server:
        """A callhub server on this cluster's database (and Redis), started as users start
        it: `callhub serve` (`cli=False`: uvicorn on callhub.app:app directly)."""
        log = self.tmp / f"server-{len(self.servers)}.log"
        server = Server(port or free_port(), self._env(env), log, cli=cli, sndbuf=sndbuf)
        self.servers.append(server)  # stopped (its log closed) even if it does not start
        server.start()
        return server

    def _env(self, env: dict[str, str]) -> dict[str, str]:
        full = {
            **os.environ,
            "CALLHUB_DATABASE_URL": self.database_url,
            "CALLHUB_SECRET_KEY": SECRET,
            "CALLHUB_PBX_TOKEN": PBX_TOKEN,
            "CALLHUB_PBX55_TOKEN": PBX55_TOKEN,
            "CALLHUB_TAB_SEND_TIMEOUT": "1",
            # The test servers speak plain HTTP: Secure cookies would never come back.
            "CALLHUB_HTTPS_ONLY": "0",
            **self.extra_env,
            **env,
        }
        if self.broker_url:
            full["CALLHUB_BROKER_URL"] = self.broker_url
        return full

    async def app_server(self, **env: str) -> AppServer:
        """callhub on this cluster's database (and Redis), served in the test's own loop."""
        server = AppServer(free_port(), self._env(env))
        await server.start()
        self.in_process.append(server)
        return server

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    async def aclose(self) -> None:
        for app_server in self.in_process:
            await app_server.stop()
        self.stop()

    async def read(self, work: Callable[[Session], T]) -> T:
        """What the servers stored, read through a store of the test's own."""
        store = Store(self.database_url)
        try:
            return await store.run(work)
        finally:
            await store.dispose()


class RedisServer:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_redis(self.port, self.proc)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class PostgresServer:
    """A throwaway PostgreSQL cluster on loopback: initdb once, then start, kill, restart.

    As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
    Durability is switched off for tests (a test database need not survive a power cut);
    `durable=True` keeps PostgreSQL's defaults (fsync, synchronous commit), as production
    runs it, for the benchmarks.
    """

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="callhub-pg-"))
        self.data = self.dir / "data"
        self.proc: subprocess.Popen[bytes] | None = None
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._count = 0

    @staticmethod
    def bindir() -> Path:
        found = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/postgres"),
            key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        )
        if not found:
            raise RuntimeError("PostgreSQL is not installed: run scripts/test, which installs it")
        return found[-1].parent

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://callhub@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str | Path) -> subprocess.Popen[bytes]:
        with (self.dir / "server.log").open("ab") as log:
            return subprocess.Popen(
                [str(a) for a in args],
                user=self.user,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=self.dir,
            )

    def start(self) -> None:
        bindir = self.bindir()
        if not self.data.exists():
            init = self._run(
                bindir / "initdb", "-D", self.data, "-A", "trust", "-U", "callhub",
                "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync",
            )  # fmt: skip
            if init.wait(120) != 0:
                raise RuntimeError(f"initdb failed; see {self.dir / 'server.log'}")
        fast = () if self.durable else (
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        )  # fmt: skip
        self.proc = self._run(
            bindir / "postgres", "-D", self.data, "-p", str(self.port), "-k", self.dir,
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", *fast,
        )  # fmt: skip
        self.wait_ready(timeout=30)

    def wait_ready(self, timeout: float) -> None:
        """Until PostgreSQL accepts a connection: its port opens while it is still
        recovering ("the database system is starting up")."""
        deadline = time.monotonic() + timeout
        ready = [str(self.bindir() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited; see {self.dir / 'server.log'}")
            if subprocess.run([*ready, "-U", "callhub", "-d", "postgres"]).returncode == 0:
                return
            time.sleep(0.05)
        raise TimeoutError(f"PostgreSQL on {self.port} did not accept connections")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM waits for clients to leave; SIGINT cuts them off (a fast shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(how)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def execute(self, *statements: str) -> None:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="callhub", database="postgres"
        )
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def new_database(self, template: str | None = None) -> str:
        """A new database (a copy of `template` when given); its SQLAlchemy URL."""
        self._count += 1
        name = f"test_{os.getpid()}_{self._count}"
        clause = f" TEMPLATE {template}" if template else ""
        await self.execute(f"CREATE DATABASE {name}{clause}")
        return self.url(name)

    async def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


USCALL_TOKEN = "$1$gcNiVTZp$5IqX.EhuJyLNG7pBc5o4.."


class USCallSim:
    """`callhub uscall-sim` in its own process: the PBX callhub and the tests talk to."""

    def __init__(self, tmp: Path, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.args = args
        self.log = tmp / f"uscall-sim-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    url = Server.url

    @property
    def wsdl(self) -> str:
        return f"{self.url}/aplicativos/webservice/wsuscall.php?wsdl"

    def env(self, token: str = USCALL_TOKEN, poll: str = "0.3") -> dict[str, str]:
        """callhub's settings for this PBX (the board polled every `poll` seconds)."""
        return {
            "CALLHUB_USCALL_WSDL": self.wsdl,
            "CALLHUB_USCALL_TOKEN": token,
            "CALLHUB_BOARD_POLL_SECONDS": poll,
        }

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "callhub.cli",
                    "uscall-sim",
                    "--port",
                    str(self.port),
                    "--token",
                    USCALL_TOKEN,
                    "--seed",
                    "7",
                    *self.args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_answer(self.port, proc=self.proc)

    def stop(self) -> None:
        terminate(self.proc)
        self.proc = None

    async def arrive(self, fila: str, numero: str, **extra: str) -> str:
        async with http_client(base_url=self.url, timeout=5) as c:
            r = await c.post("/_sim/arrive", data={"fila": fila, "numero": numero, **extra})
            r.raise_for_status()
            return str(r.json()["idcall"])

    async def state(self) -> dict[str, object]:
        async with http_client(base_url=self.url, timeout=5) as c:
            r = await c.get("/")
            r.raise_for_status()
            return dict(r.json())


class Agent:
    """A logged-in agent: an httpx client holding the session cookie."""

    def __init__(self, server: Served, username: str) -> None:
        self.server = server
        self.username = username
        self.http = http_client(base_url=server.url, timeout=10)
        self.tabs: list[Tab] = []

    async def login(self, ramal: str | None = None) -> Agent:
        r = await web_login(self.http, self.username)
        assert r.status_code == 303, r.text
        if ramal is not None:
            r = await self.http.post("/atendimento/ramal", data={"ramal": ramal})
            assert r.status_code == 303, r.text
        return self

    @property
    def cookie(self) -> str:
        return f"callhub_session={self.http.cookies.get('callhub_session')}"

    async def tab(
        self, after: int | None = None, server: Served | None = None, rcvbuf: int | None = None
    ) -> Tab:
        """A tab of this agent; `rcvbuf`: its socket's receive buffer (a small one fills
        after a few frames, once the tab stops reading)."""
        url = (server or self.server).ws_url + (f"?after={after}" if after is not None else "")
        sock = None
        if rcvbuf is not None:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before the window
            sock.setblocking(False)
            port = int(url.split(":")[2].split("/")[0])
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        ws = await websockets.connect(url, additional_headers={"Cookie": self.cookie}, sock=sock)
        first = await asyncio.wait_for(ws.recv(), 5)
        assert 'id="recent-pops"' in str(first)
        tab = Tab(ws, [str(first)])
        self.tabs.append(tab)
        return tab

    async def aclose(self) -> None:
        for tab in self.tabs:
            await tab.close()
        await self.http.aclose()


async def until_ready(server: Served, ready: bool = True, timeout: float = 10) -> None:
    """Until the server's /readyz says it is ready (200), or not (`ready=False`)."""
    deadline = time.monotonic() + timeout
    async with http_client(base_url=server.url, timeout=5) as c:
        while ((await c.get("/readyz")).status_code == 200) != ready:
            assert time.monotonic() < deadline, f"{server.url} ready is not {ready}"
            await asyncio.sleep(0.05)


async def board_tab(supervisor: Agent) -> Tab:
    """A wall board tab (/ws/painel) of a logged-in supervisor."""
    url = supervisor.server.url.replace("http", "ws") + "/ws/painel"
    ws = await websockets.connect(url, additional_headers={"Cookie": supervisor.cookie})
    tab = Tab(ws, [])
    supervisor.tabs.append(tab)
    return tab


@dataclass
class Tab:
    ws: websockets.ClientConnection
    frames: list[str]

    async def next(self, timeout: float = 5.0) -> str:
        frame = str(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def wait_for(self, text: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.next(max(0.01, deadline - time.monotonic()))
            if text in frame:
                return frame

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 2)
        self.ws.transport.abort()


async def push55(
    server: Served, body: dict[str, object] | str | bytes, method: str = "POST", **headers: str
) -> httpx.Response:
    """A 55pbx push: a dict is sent as JSON, text and bytes as they are."""
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    if isinstance(content, str):
        content = content.encode()
    async with http_client(base_url=server.url, timeout=10) as c:
        return await c.request(
            method,
            "/integrations/55pbx",
            content=content,
            headers={"token": PBX55_TOKEN, "content-type": "application/json", **headers},
        )


async def pbx(server: Served, name: str, method: str = "GET", **params: str) -> httpx.Response:
    async with http_client(base_url=server.url, timeout=10) as c:
        path = f"/webservices/telefonia/{name}"
        if method == "GET":
            return await c.get(path, params=params, headers={"token": PBX_TOKEN})
        return await c.post(path, data=params, headers={"token": PBX_TOKEN})


# -- the ITSM API (/services/*) --------------------------------------------------------

API_USER = "integracao"


async def api_call(
    server: Served, name: str, body: dict[str, Any], *, status: int = 200, **headers: str
) -> dict[str, Any]:
    async with http_client(base_url=server.url, timeout=10) as c:
        path = f"/{name}" if name.startswith("mobile/") else f"/services/{name}"
        r = await c.post(path, json=body, headers=headers)
    data = r.json()
    assert r.status_code == status, data
    assert isinstance(data["dateTime"], int) and abs(data["dateTime"] / 1000 - time.time()) < 60
    assert isinstance(data["operationID"], int)
    if status == 200:
        assert data["error"] is None
    else:
        assert set(data["error"]) >= {"code", "description"}
    return dict(data)


async def api_login(
    server: Served, user: str = API_USER, platform: str = "ERP", **extra: Any
) -> str:
    data = await api_call(
        server,
        "login",
        {"userName": user, "password": PASSWORD, "platform": platform, **extra},
    )
    return str(data["sessionID"])
