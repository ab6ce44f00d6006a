"""Notice PDFs rendered in separate, bounded worker processes.

WeasyPrint cannot be interrupted, and the HTML and CSS it lays out come partly from
templates that legal staff write. One page of CSS can make it run for minutes (a long
word in a 1 mm box with `word-break: break-all`) or allocate gigabytes (a loop of ten
thousand pages). So the layout never runs in the web or task process:

- A small pool of long-lived worker processes (this file, run as a script) per
  server process; each keeps its fonts loaded between renders, so a one-page notice
  stays fast, and several processes render at once without any lock between them.
- Each worker runs under an address-space limit (RLIMIT_AS): an allocation past it
  fails inside the worker, never in the server.
- Each render has a wall clock: past it the worker is killed and replaced. A CPU-time
  limit (RLIMIT_CPU) set before each render is the backstop if the parent is gone.
- Pages are counted while they are laid out: the render stops at the first page past
  the cap, not after laying out ten thousand.
- A worker exits when its parent dies (it watches its parent id), so no render
  outlives the process that asked for it; after a fork (django-q2 forks its workers)
  the child starts its own pool and leaves the parent's workers alone.

The worker imports WeasyPrint and nothing of Django; it speaks length-prefixed frames
on its stdin and stdout (a JSON header, then the PDF bytes).
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

BASE_DIR = Path(__file__).resolve().parents[2]
LAYOUT_DIR = BASE_DIR / "templates" / "notices"

# A worker is replaced after this many renders: WeasyPrint and Pango keep caches that
# only grow, and a fresh process costs about a second once in a while.
RENDERS_PER_WORKER = 200
# Starting a worker (interpreter, WeasyPrint import) is not the template's fault, and
# is not counted against the render's clock; this only catches a worker that hangs.
START_TIMEOUT_SECONDS = 60.0
_HEADER = struct.Struct(">I")


@dataclass(frozen=True)
class PdfLimits:
    """Bounds on one PDF render (settings TAKEDOWN_PDF_*)."""

    timeout_seconds: float = 30.0
    memory_mb: int = 1024
    max_pages: int = 200
    workers: int = 2


class PdfBoundExceeded(Exception):
    """A render went past one of its bounds; `bound` is "time", "memory" or "pages"."""

    def __init__(self, bound: str, limits: PdfLimits, detail: str = "") -> None:
        self.bound = bound
        self.limits = limits
        self.detail = detail
        super().__init__(f"{bound}: {detail}" if detail else bound)


class PdfWorkerError(Exception):
    """WeasyPrint failed on the document for a reason other than a bound."""


class PdfWorkerStartError(RuntimeError):
    """A worker process could not start: a server problem, not the document's."""


# -- the worker process ------------------------------------------------------------------


class LocalAssetFetcher(URLFetcher):
    """Serves files inside `root` and nothing else: no network, no data: URLs, no path
    outside the folder (`..`, absolute paths and symlinks are resolved before the
    check). Anything refused raises, which WeasyPrint logs and skips."""

    def __init__(self, root: Path) -> None:
        super().__init__(timeout=1, allow_redirects=False, fail_on_errors=False)
        self.root = Path(root).resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"refused, not a layout file: {url[:200]}")
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"refused, outside the layout folder: {url[:200]}")
        content_type = _CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})

    def open(self, url: Any, data: Any = None, timeout: Any = None) -> URLFetcherResponse:
        # urllib's OpenerDirector entry point, in case anything calls it directly.
        return self.fetch(getattr(url, "full_url", url))


_CONTENT_TYPES = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Run the cyclic garbage collector less often for the duration of a render.

    WeasyPrint builds millions of objects that live until the PDF is written; at the
    default threshold (a collection every 700 allocations) the collector re-scans them
    over and over, about a tenth of a 1,000-URL render (bench/render.py). Reference
    counting still frees everything as usual; cycles wait a little longer (about 30 MB
    more peak memory on 1,000 URLs). The thresholds are process-wide, hence restored.
    """
    previous = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


class _TooManyPages(Exception):
    pass


def _read_exactly(stream: Any, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_frame(stream: Any) -> bytes | None:
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    return _read_exactly(stream, _HEADER.unpack(header)[0])


def _write_frames(stream: Any, *frames: bytes) -> None:
    stream.write(b"".join(_HEADER.pack(len(frame)) + frame for frame in frames))
    stream.flush()


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


def _watch_parent(parent: int) -> None:
    # Reparented means the server process is gone: nobody will read this render.
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.5)


def _limit_cpu(seconds: float) -> None:
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(spent + seconds) + 2
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _worker_main(memory_mb: int) -> None:  # pragma: no cover - runs in the worker process
    import resource

    # The protocol owns the real stdout; anything printed by a library goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inp = os.fdopen(os.dup(0), "rb")
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    # Interrupting the server with Ctrl-C reaches the whole process group; the parent
    # decides what happens to a render, not the terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    import weasyprint.layout
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    fetcher = LocalAssetFetcher(LAYOUT_DIR)
    base_url = LAYOUT_DIR.as_uri() + "/"
    make_all_pages = weasyprint.layout.make_all_pages
    max_pages = [0]

    def counted_pages(*args: Any, **kwargs: Any) -> Iterator[Any]:
        # Layout yields pages one at a time: stop at the first one past the cap instead
        # of laying out a document of ten thousand.
        for number, page in enumerate(make_all_pages(*args, **kwargs), start=1):
            if number > max_pages[0]:
                raise _TooManyPages
            yield page

    weasyprint.layout.make_all_pages = counted_pages
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    logger.propagate = False
    _write_frames(out, json.dumps({"ready": True}).encode())

    while True:
        frame = _read_frame(inp)
        if frame is None:
            return  # the parent closed the pipe: shut down
        request = json.loads(frame)
        max_pages[0] = int(request["max_pages"])
        collector.records = []
        _limit_cpu(float(request["timeout_seconds"]))
        started = time.process_time()
        pdf = b""
        try:
            with relaxed_gc():
                document = HTML(string=request["html"], base_url=base_url, url_fetcher=fetcher).render(
                    font_config=font_config
                )
                if len(document.pages) > max_pages[0]:
                    raise _TooManyPages
                pdf = document.write_pdf()
            del document
            reply: dict[str, Any] = {"ok": True}
        except _TooManyPages:
            reply = {"ok": False, "bound": "pages"}
        except MemoryError:
            reply = {"ok": False, "bound": "memory"}
        except Exception as exc:
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:1000]}
        reply["warnings"] = collector.records
        reply["cpu_seconds"] = time.process_time() - started
        try:
            _write_frames(out, json.dumps(reply).encode(), pdf)
        except MemoryError:
            os._exit(4)
        if reply.get("bound") == "memory":
            return  # a failed allocation may have left a library half-way: start afresh
        # The cycles relaxed_gc() let through, freed now rather than during the next
        # render, whose address-space budget they would eat into.
        del request, pdf
        gc.collect()


# -- the pool, in the server process -----------------------------------------------------


class _Worker:
    def __init__(self, memory_mb: int) -> None:
        env = dict(os.environ)
        # Same input, same bytes, whichever worker renders it: nothing may depend on
        # string hashing order.
        env["PYTHONHASHSEED"] = "0"
        # One malloc arena: each extra one reserves 64 MB of address space, which would
        # count against RLIMIT_AS without ever being used.
        env["MALLOC_ARENA_MAX"] = "1"
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.memory_mb = memory_mb
        self.renders = 0
        self.process = subprocess.Popen(
            # This file by its path, not `-m takedown.rendering.worker`: that would import the
            # package first, and with it Jinja2 and Django, into every worker's address space.
            # -P keeps this folder off sys.path, where its modules could shadow a library's.
            [sys.executable, "-P", str(Path(__file__).resolve()), str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=str(BASE_DIR),
            env=env,
        )
        self.owner = os.getpid()
        header, _ = self._read_reply(START_TIMEOUT_SECONDS, what="start")
        if not header.get("ready"):
            self.kill()
            raise PdfWorkerStartError("the PDF worker did not start")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._close()

    def stop(self) -> None:
        """Ask the worker to exit (end of its input), killing it if it does not."""
        self._close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()

    def _close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def abandon(self) -> None:
        """In a forked child: drop the copies of the parent's pipes, leave the worker."""
        self._close()

    def render(self, html: str, limits: PdfLimits) -> tuple[dict[str, Any], bytes]:
        request = json.dumps(
            {"html": html, "max_pages": limits.max_pages, "timeout_seconds": limits.timeout_seconds}
        ).encode()
        self.renders += 1
        assert self.process.stdin is not None
        try:
            _write_frames(self.process.stdin, request)
        except (BrokenPipeError, OSError):
            return self._died(limits)
        return self._read_reply(limits.timeout_seconds, what="render", limits=limits)

    def _read_reply(
        self, timeout: float, *, what: str, limits: PdfLimits | None = None
    ) -> tuple[dict[str, Any], bytes]:
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        frames: list[bytes] = []
        buffer = bytearray()
        wanted = 1 if what == "start" else 2
        while len(frames) < wanted:
            # Complete frames already in the buffer first.
            if len(buffer) >= _HEADER.size:
                size = _HEADER.unpack_from(buffer)[0]
                if len(buffer) >= _HEADER.size + size:
                    frames.append(bytes(buffer[_HEADER.size : _HEADER.size + size]))
                    del buffer[: _HEADER.size + size]
                    continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                if limits is None:
                    raise PdfWorkerStartError("the PDF worker did not start in time")
                raise PdfBoundExceeded("time", limits)
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                if limits is None:
                    self.kill()
                    raise PdfWorkerStartError(
                        f"the PDF worker stopped while starting (status {self.process.returncode}); "
                        "see its error output above, and TAKEDOWN_PDF_MEMORY_MB"
                    )
                return self._died(limits)
            buffer += chunk
        header = json.loads(frames[0])
        return header, (frames[1] if len(frames) > 1 else b"")

    def _died(self, limits: PdfLimits) -> tuple[dict[str, Any], bytes]:
        self.process.wait()
        code = self.process.returncode
        self._close()
        if code == -signal.SIGXCPU:
            raise PdfBoundExceeded("time", limits)
        # Out of address space inside C code (Pango, HarfBuzz, cairo) ends the process
        # rather than raising MemoryError; nothing else here kills a worker.
        raise PdfBoundExceeded("memory", limits, f"the worker ended with status {code}")


class PdfPool:
    """Up to `limits.workers` worker processes, started when first needed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy = 0
        self._available = threading.Condition(self._lock)
        self.cpu_seconds = 0.0  # worker CPU time spent rendering, for bench/render.py

    def render(self, html: str, limits: PdfLimits) -> tuple[bytes, list[tuple[int, str]]]:
        """The PDF and WeasyPrint's warnings; raises PdfBoundExceeded or PdfWorkerError."""
        worker = self._acquire(limits)
        healthy = False
        try:
            header, pdf = worker.render(html, limits)
            # A worker that ran out of memory exits after answering: never reuse it.
            healthy = header.get("bound") != "memory"
        finally:
            self._release(worker, healthy=healthy)
        self.cpu_seconds += float(header.get("cpu_seconds") or 0)
        warnings = [(int(level), str(message)) for level, message in header.get("warnings") or []]
        if header.get("ok"):
            return pdf, warnings
        if header.get("bound"):
            raise PdfBoundExceeded(header["bound"], limits)
        raise PdfWorkerError(str(header.get("error") or "unknown error"))

    def _acquire(self, limits: PdfLimits) -> _Worker:
        with self._available:
            # Renders are bounded, so waiting for a worker is bounded too.
            while self._busy >= max(limits.workers, 1):
                self._available.wait()
            self._busy += 1
            while self._idle:
                worker = self._idle.pop()
                if worker.alive and worker.memory_mb == limits.memory_mb:
                    return worker
                worker.stop()
        try:
            return _Worker(limits.memory_mb)
        except BaseException:
            with self._available:
                self._busy -= 1
                self._available.notify()
            raise

    def _release(self, worker: _Worker, *, healthy: bool) -> None:
        keep = healthy and worker.alive and worker.renders < RENDERS_PER_WORKER
        if not keep:
            worker.kill() if worker.alive else worker._close()
        with self._available:
            self._busy -= 1
            if keep:
                self._idle.append(worker)
            self._available.notify()

    def close(self) -> None:
        """Stop the idle workers (at exit, and in tests that change the limits)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def abandon(self) -> None:
        for worker in self._idle:
            worker.abandon()
        self._idle = []

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [worker.process.pid for worker in self._idle if worker.alive]


_POOL: PdfPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> PdfPool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = PdfPool()
        return _POOL


def _after_fork_in_child() -> None:
    # The child inherited the parent's pool: its workers belong to the parent (which
    # may be using them right now) and its locks may be held by a thread that does not
    # exist here. Start afresh.
    global _POOL, _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    if _POOL is not None:
        _POOL.abandon()
    _POOL = None


def _close_at_exit() -> None:
    if _POOL is not None:
        _POOL.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_at_exit)


if __name__ == "__main__":  # pragma: no cover - the worker process
    _worker_main(int(sys.argv[1]))
