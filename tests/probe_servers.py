"""Real servers on loopback for the probe tests: aiohttp apps and raw TCP listeners.

Everything runs inside the test's own event loop (tests call ``asyncio.run``), on random
ports, and counts what reaches it so that tests can assert on the server side.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Traffic:
    """What reached a server: request starts (loop time, path, headers) and peak concurrency."""

    started: list[tuple[float, str]] = field(default_factory=list)
    headers: list[Mapping[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    @property
    def count(self) -> int:
        return len(self.started)


@dataclass
class Served:
    host: str
    port: int
    traffic: Traffic

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"


@asynccontextmanager
async def serve(
    routes: Mapping[str, Handler],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    shared: Traffic | None = None,
) -> AsyncIterator[Served]:
    """An aiohttp app answering GET on ``routes`` (aiohttp path patterns). ``shared`` also
    counts this server's traffic, to measure concurrency across several servers."""
    traffic = Traffic()

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        now = asyncio.get_running_loop().time()
        for t in (traffic, shared):
            if t is not None:
                t.started.append((now, request.path_qs))
                t.headers.append(dict(request.headers))
                t.in_flight += 1
                t.max_in_flight = max(t.max_in_flight, t.in_flight)
        try:
            return await handler(request)
        finally:
            for t in (traffic, shared):
                if t is not None:
                    t.in_flight -= 1

    app = web.Application(middlewares=[count])
    for path, handler in routes.items():
        app.router.add_get(path, handler, allow_head=False)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Served(host, bound, traffic)
    finally:
        await runner.cleanup()


def page(
    body: str | bytes = "",
    *,
    status: int = 200,
    content_type: str = "text/html; charset=utf-8",
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
) -> Handler:
    data = body.encode() if isinstance(body, str) else body

    async def handler(request: web.Request) -> web.Response:
        if delay:
            await asyncio.sleep(delay)
        return web.Response(
            body=data, status=status, headers={"Content-Type": content_type, **(headers or {})}
        )

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": location})

    return handler


def endless(chunk: bytes = b"x" * 65536) -> Handler:
    """A body that never ends; records how many bytes it managed to send."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        sent = 0
        try:
            while sent < 512 * 1024 * 1024:
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionError, RuntimeError):
            pass
        return response

    return handler


@dataclass
class Listener:
    port: int
    accepted: int = 0


@asynccontextmanager
async def canary(hosts: tuple[str, ...] = ("127.0.0.1", "::1")) -> AsyncIterator[Listener]:
    """A raw TCP listener on one port of every loopback address given: it counts accepted
    connections and closes them. An SSRF test passes only if it counts none."""
    listener = Listener(port=0)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener.accepted += 1
        writer.close()

    servers = [await asyncio.start_server(on_connect, hosts[0], 0)]
    listener.port = servers[0].sockets[0].getsockname()[1]
    for host in hosts[1:]:
        try:
            servers.append(await asyncio.start_server(on_connect, host, listener.port))
        except OSError:  # no IPv6 loopback here, or the port is taken on it
            pass
    try:
        yield listener
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


@asynccontextmanager
async def silent(host: str = "127.0.0.1") -> AsyncIterator[Listener]:
    """Accepts connections and never answers."""
    listener = Listener(port=0)
    writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener.accepted += 1
        writers.append(writer)
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(on_connect, host, 0)
    listener.port = server.sockets[0].getsockname()[1]
    try:
        yield listener
    finally:
        for writer in writers:
            writer.close()
        server.close()


def free_port() -> int:
    """A port with nothing listening on it (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StubResolver:
    """ProbeConfig.resolver for tests: a fixed table; unknown names are NXDOMAIN. Counts lookups."""

    def __init__(self, table: Mapping[str, list[str] | list[list[str]] | Exception]) -> None:
        self.table = dict(table)
        self.lookups: list[str] = []

    async def __call__(self, host: str) -> list[str]:
        self.lookups.append(host)
        answer = self.table.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if isinstance(answer, Exception):
            raise answer
        if answer and isinstance(answer[0], list):  # successive answers, for rebinding tests
            return answer[min(self.lookups.count(host), len(answer)) - 1]  # type: ignore[return-value]
        return answer  # type: ignore[return-value]
