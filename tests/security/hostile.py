"""A loopback HTTP server that answers whatever a test scripts: fixed routes (status, headers,
body), redirects to anywhere, and a log of every request with its headers."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Hostile:
    def __init__(self, host_name: str = "127.0.0.1") -> None:
        self.host_name = host_name
        self.routes: dict[str, Answer] = {}
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{self.host_name}:{self.server.server_address[1]}"

    def route(self, path: str, status: int = 200, body: bytes = b"", **headers: str) -> None:
        self.routes[path] = Answer(
            status, body, {k.replace("_", "-"): v for k, v in headers.items()}
        )

    def requests(self, part: str = "") -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.log if part in r["path"]]

    def start(self) -> Hostile:
        me = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                with me.lock:
                    me.log.append({"path": path, "headers": dict(self.headers.items())})
                ans = me.routes.get(path) or Answer(
                    404, b"not found", {"Content-Type": "text/plain"}
                )
                self.send_response(ans.status)
                for k, v in ans.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(ans.body)))
                self.end_headers()
                self.wfile.write(ans.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
