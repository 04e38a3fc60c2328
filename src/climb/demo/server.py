"""A loopback HTTP server that serves the demo corpus like the real services.

Started on 127.0.0.1 with an ephemeral port and stopped by the demo; ``env()`` gives the
``CLIMB_*_URL`` mirror overrides that point ``climb fetch`` at it. Wire behaviour (a subset of
the real services, enough for climb's fetch engine):

* PhysioNet: ``/physionet/files/<slug>/<version>/SHA256SUMS.txt`` (``<sha256> <path>`` lines,
  sorted) and every listed file.
* Kaggle REST v1: ``/kaggle/api/v1/datasets/list/<owner>/<name>`` (JSON file list) and
  ``/kaggle/api/v1/datasets/download/<owner>/<name>`` (302 to a storage URL serving the bundle
  zip); HTTP basic auth required (any user/key: the demo sets its own).
* GitHub raw: ``/ghraw/<owner>/<repo>/<ref>/<path>``.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import threading
import zipfile
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

MTIME = email.utils.formatdate(1_700_000_000, usegmt=True)


class MirrorServer:
    """Serves ``<mirror>/{physionet,kaggle,github}`` (see :mod:`climb.demo.corpus`)."""

    def __init__(self, mirror: str | Path) -> None:
        self.mirror = Path(mirror).resolve()
        self.server: ThreadingHTTPServer | None = None
        self.requests = 0

    # ------------------------------------------------------------------ content
    def files_under(self, folder: Path) -> list[str]:
        return sorted(
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    @cache  # noqa: B019 - one server object per demo; the tree does not change while it runs
    def sha256sums(self, slug: str, version: str) -> bytes:
        folder = self.mirror / "physionet" / slug / version
        lines = []
        for rel in self.files_under(folder):
            lines.append(f"{hashlib.sha256((folder / rel).read_bytes()).hexdigest()} {rel}\n")
        return "".join(lines).encode()

    @cache  # noqa: B019
    def kaggle_bundle(self, owner: str, name: str) -> bytes:
        folder = self.mirror / "kaggle" / owner / name
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for rel in self.files_under(folder):
                info = zipfile.ZipInfo(rel, date_time=(2023, 1, 1, 0, 0, 0))
                zf.writestr(info, (folder / rel).read_bytes())
        return buf.getvalue()

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        assert self.server is not None, "server not started"
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def env(self) -> dict[str, str]:
        u = self.url
        return {
            "CLIMB_PHYSIONET_URL": f"{u}/physionet",
            "CLIMB_KAGGLE_URL": f"{u}/kaggle",
            "CLIMB_GITHUB_RAW_URL": f"{u}/ghraw",
            "CLIMB_GITHUB_URL": f"{u}/gh",
            "CLIMB_GITHUB_API_URL": f"{u}/ghapi",
            "CLIMB_ZENODO_URL": f"{u}/zenodo",
            "CLIMB_HUGGINGFACE_URL": f"{u}/hf",
            "CLIMB_TCIA_URL": f"{u}/tcia",
        }

    def start(self) -> MirrorServer:
        srv = self

        class Handler(_Handler):
            mirror = srv

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mirror: MirrorServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    # ------------------------------------------------------------------ plumbing
    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not self._head:
            self.wfile.write(body)

    def _blob(self, data: bytes, ctype: str = "application/octet-stream") -> None:
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Last-Modified": MTIME, "Accept-Ranges": "bytes"}
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and self.headers.get("If-Range", etag) in (etag, MTIME):
            start_s, _, end_s = rng[6:].partition("-")
            start = int(start_s or 0)
            end = int(end_s) if end_s else len(data) - 1
            if start < len(data):
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                return self._send(206, data[start : end + 1], ctype, headers)
        self._send(200, data, ctype, headers)

    def _not_found(self) -> None:
        self._send(
            404, b"<!DOCTYPE html><html><body><h1>Not found (404)</h1></body></html>", "text/html"
        )

    def _dispatch(self, head: bool) -> None:
        self._head = head
        self.mirror.requests += 1
        path = unquote(urlsplit(self.path).path)
        try:
            for prefix, fn in (
                ("/physionet/", self._physionet),
                ("/kaggle/", self._kaggle),
                ("/ghraw/", self._ghraw),
            ):
                if path.startswith(prefix):
                    return fn(path[len(prefix) - 1 :])
            self._not_found()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _file(self, base: Path, rel: str) -> bytes | None:
        p = (base / rel).resolve()
        if not p.is_file() or not p.is_relative_to(self.mirror.mirror):
            return None
        return p.read_bytes()

    # ------------------------------------------------------------------ services
    def _physionet(self, path: str) -> None:
        parts = path.strip("/").split("/", 3)
        if len(parts) < 4 or parts[0] != "files":
            return self._not_found()
        _, slug, version, rel = parts
        base = self.mirror.mirror / "physionet" / slug / version
        if not base.is_dir():
            return self._not_found()
        if rel == "SHA256SUMS.txt":
            return self._blob(self.mirror.sha256sums(slug, version), "text/plain")
        data = self._file(base, rel)
        return self._not_found() if data is None else self._blob(data)

    def _kaggle(self, path: str) -> None:
        p = path.strip("/").split("/")
        if p[0] == "storage" and len(p) >= 4:
            if not (self.mirror.mirror / "kaggle" / p[1] / p[2]).is_dir():
                return self._not_found()
            return self._blob(self.mirror.kaggle_bundle(p[1], p[2]), "application/zip")
        if not self.headers.get("Authorization", "").startswith(("Basic ", "Bearer ")):
            return self._send(401, b'{"code":401,"message":"Unauthorized"}', "application/json")
        if p[:3] == ["api", "v1", "datasets"] and len(p) == 6:
            kind, owner, name = p[3], p[4], p[5]
            folder = self.mirror.mirror / "kaggle" / owner / name
            if not folder.is_dir():
                return self._send(404, b'{"code":404,"message":"Not found"}', "application/json")
            if kind == "list":
                files = [
                    {"ref": r, "name": r, "totalBytes": (folder / r).stat().st_size}
                    for r in self.mirror.files_under(folder)
                ]
                body = json.dumps({"datasetFiles": files, "errorMessage": None}).encode()
                return self._send(200, body, "application/json")
            if kind == "download":
                loc = f"{self.mirror.url}/kaggle/storage/{owner}/{name}/archive.zip"
                return self._send(302, b"", "text/plain", {"Location": loc})
        self._send(404, b'{"code":404,"message":"Not found"}', "application/json")

    def _ghraw(self, path: str) -> None:
        p = path.strip("/").split("/", 3)
        if len(p) < 4:
            return self._not_found()
        data = self._file(self.mirror.mirror / "github" / p[0] / p[1] / p[2], p[3])
        if data is None:
            return self._send(404, b"404: Not Found", "text/plain")
        self._blob(data, "text/plain; charset=utf-8")


__all__ = ["MirrorServer"]
