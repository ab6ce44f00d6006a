"""A real HTTP server on loopback whose answers a test changes as it goes (for rechecks)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: str = "<html><head><title>A live page</title></head><body>content</body></html>"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Site:
    """Serves `answers[path]` (404 for unknown paths) and counts requests per path."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.hits: dict[str, int] = {}
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests the server was answering at once
        lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                answer = site.answers.get(self.path, Answer(404, "<title>Not Found</title>"))
                # In flight: from the request's arrival until its answer starts to go back (the
                # client can only send its next request after that, so nothing is counted twice).
                with lock:
                    site.hits[self.path] = site.hits.get(self.path, 0) + 1
                    site.in_flight += 1
                    site.most_in_flight = max(site.most_in_flight, site.in_flight)
                try:
                    if answer.delay:
                        time.sleep(answer.delay)
                finally:
                    with lock:
                        site.in_flight -= 1
                body = answer.body.encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for k, v in answer.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
