"""Loopback emulators of PhysioNet, Kaggle, Zenodo, GitHub, the HF Hub, TCIA and public S3
buckets, with faults.

One threaded HTTP/1.1 server on 127.0.0.1 serves every service under its own prefix, so each
client base URL is ``<server>/<prefix>`` (``/physionet``, ``/kaggle``, ``/zenodo``, ``/gh``,
``/ghapi``, ``/ghraw``, ``/hf``, ``/tcia``, ``/s3``). S3 is path-style: anonymous
ListObjectsV2 (``GET /s3/<bucket>?list-type=2&prefix=&continuation-token=``, XML, ``s3_page``
keys per page), object GETs, 403 AccessDenied for buckets in ``s3_unlisted``. The wire behaviour follows
``shared/reference/source-apis.md``: status codes, headers, bodies, redirects and Range.

Faults are queued per request path (consumed one per request, ``*`` suffix = forever):
``drop`` (full Content-Length, half the body, close), ``truncate`` (no length, half the body,
close), ``500``/``503``, ``429:<s>`` (Retry-After), ``norange`` (ignore Range), ``slow:<s>``
(sleep before answering), ``corrupt`` (flip a byte), ``trickle`` (small slow chunks), ``403``
(``/blob/`` paths: Forbidden).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import io
import json
import tarfile
import threading
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

HTML_403 = (
    b"<!DOCTYPE html><html><head><title>403: Forbidden Access</title></head><body>"
    b"<h1>Forbidden Access<br />(403)</h1><p>You dont have access to see this page.</p>"
    b"</body></html>"
)
HTML_404 = b"<!DOCTYPE html><html><body><h1>Page not found (404)</h1></body></html>"
HTML_LOGIN = (
    b"<!DOCTYPE html>\n<html><head><title>Login | PhysioNet</title></head><body>"
    b"<form method='post' action='/login/'><input name='username'></form></body></html>"
)
RULES_403 = (
    b'{"code":403,"message":"You must accept this competition\\u0027s rules before '
    b'you\\u0027ll be able to download files."}'
)
MTIME = email.utils.formatdate(1_700_000_000, usegmt=True)


@dataclass
class Blob:
    data: bytes
    ctype: str = "application/octet-stream"
    etag: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.sha256(self.data).hexdigest()[:32] + '"'


@dataclass
class PhysioNetProject:
    files: dict[str, bytes]
    protected: bool = False
    users: dict[str, str] = field(default_factory=dict)
    signed: set[str] = field(default_factory=set)
    login_page: bool = False
    sums: bytes | None = None


def s3_object(data: bytes, multipart: int = 0) -> Blob:
    """An S3 object: ETag = quoted MD5, or a multipart-style ``"<hex>-<parts>"`` ETag."""
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    etag = f'"{md5}"' if not multipart else f'"{hashlib.md5(md5.encode()).hexdigest()}-{multipart}"'
    return Blob(data, etag=etag)


def s3_error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message><RequestId>EMU</RequestId></Error>"
    ).encode()


def sha256sums(files: dict[str, bytes]) -> bytes:
    lines = [f"{hashlib.sha256(files[p]).hexdigest()} {p}\n" for p in sorted(files)]
    return "".join(lines).encode()


def read_tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_targz(files: dict[str, bytes], top: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            info.mtime = 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Emulator:
    """State of every emulated service, plus the fault queue and a request log."""

    def __init__(self) -> None:
        self.physionet: dict[tuple[str, str], PhysioNetProject] = {}
        self.kaggle_users: dict[str, str] = {}
        self.kaggle: dict[str, dict[str, Any]] = {}
        self.zenodo: dict[str, dict[str, bytes]] = {}
        self.github: dict[tuple[str, str], dict[str, bytes]] = {}
        self.releases: dict[tuple[str, str], dict[str, bytes]] = {}
        self.hf: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.tcia: dict[str, list[dict[str, Any]]] = {}
        self.s3: dict[str, dict[str, Blob]] = {}  # bucket -> key -> object
        self.s3_unlisted: set[str] = set()  # buckets whose listing is AccessDenied
        self.s3_page = 1000
        self.blobs: dict[str, Blob] = {}
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.latency = 0.0
        self.server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ set-up helpers
    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def env(self) -> dict[str, str]:
        u = self.url
        return {
            "CLIMB_PHYSIONET_URL": f"{u}/physionet",
            "CLIMB_KAGGLE_URL": f"{u}/kaggle",
            "CLIMB_ZENODO_URL": f"{u}/zenodo",
            "CLIMB_GITHUB_URL": f"{u}/gh",
            "CLIMB_GITHUB_API_URL": f"{u}/ghapi",
            "CLIMB_GITHUB_RAW_URL": f"{u}/ghraw",
            "CLIMB_HUGGINGFACE_URL": f"{u}/hf",
            "CLIMB_TCIA_URL": f"{u}/tcia",
            "CLIMB_S3_URL": f"{u}/s3",
        }

    def fault(self, path: str, *faults: str) -> None:
        with self.lock:
            self.faults[path].extend(faults)

    def take_fault(self, path: str) -> str | None:
        with self.lock:
            q = self.faults.get(path)
            if not q:
                return None
            f = q[0]
            if f.endswith("*"):
                return f[:-1]
            return q.pop(0)

    def requests(self, path_part: str = "") -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.log if path_part in r["path"]]

    def add_physionet(self, slug: str, version: str, files: dict[str, bytes], **kw: Any) -> None:
        sums = files.pop("SHA256SUMS.txt", None)
        self.physionet[(slug, version)] = PhysioNetProject(files, sums=sums, **kw)

    def start(self) -> Emulator:
        em = self

        class Handler(_Handler):
            emulator = em

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: Emulator

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # ------------------------------------------------------------------ plumbing
    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def _dispatch(self, head: bool) -> None:
        em = self.emulator
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        self.query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with em.lock:
            em.log.append(
                {
                    "method": self.command,
                    "path": path,
                    "query": dict(self.query),
                    "headers": dict(self.headers.items()),
                }
            )
        self.head = head
        if em.latency:
            time.sleep(em.latency)
        fault = em.take_fault(path)
        self.fault = fault
        if fault in ("500", "503"):
            return self.send_simple(int(fault), b"server error", "text/plain")
        if fault and fault.startswith("429"):
            return self.send_simple(
                429, b"TOO MANY REQUESTS", "text/plain", {"Retry-After": fault.split(":")[1]}
            )
        if fault and fault.startswith("slow:"):
            time.sleep(float(fault.split(":")[1]))
        try:
            for prefix, fn in (
                ("/physionet/", self.physionet),
                ("/kaggle/", self.kaggle),
                ("/zenodo/", self.zenodo),
                ("/ghapi/", self.ghapi),
                ("/ghraw/", self.ghraw),
                ("/gh/", self.gh),
                ("/hf/", self.hf),
                ("/tcia/", self.tcia),
                ("/s3/", self.s3),
                ("/blob/", self.blob),
            ):
                if path.startswith(prefix):
                    return fn(path[len(prefix) - 1 :])
            self.send_simple(404, HTML_404, "text/html")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send_simple(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not self.head:
            self.wfile.write(body)

    def send_json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send_simple(
            status, json.dumps(obj).encode(), "application/json; charset=utf-8", headers
        )

    def redirect(self, location: str, headers: dict[str, str] | None = None) -> None:
        self.send_simple(302, b"", "text/plain", {"Location": location, **(headers or {})})

    def send_blob(self, blob: Blob) -> None:
        """200 or 206 with Range, ETag, Last-Modified; applies the body faults."""
        data = blob.data
        fault = self.fault
        if fault == "corrupt" and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if if_range and if_range not in (blob.etag, MTIME):
            rng = None
        if fault == "norange":
            rng = None
        start, end = 0, len(data) - 1
        status = 200
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start = int(a)
            end = int(b) if b else len(data) - 1
            if start >= len(data):
                return self.send_simple(
                    416, b"", "text/plain", {"Content-Range": f"bytes */{len(data)}"}
                )
            status = 206
        body = data[start : end + 1]
        self.send_response(status)
        self.send_header("Content-Type", blob.ctype)
        self.send_header("ETag", blob.etag)
        self.send_header("Last-Modified", MTIME)
        self.send_header("Accept-Ranges", "bytes")
        for k, v in blob.extra.items():
            self.send_header(k, v)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        if fault == "truncate":
            self.send_header("Connection", "close")
            self.end_headers()
            if not self.head:
                self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.head:
            return
        if fault == "drop":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault and fault.startswith("stall:"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            time.sleep(float(fault.split(":")[1]))
            self.wfile.write(body[len(body) // 2 :])
            return
        if fault == "trickle":
            for i in range(0, len(body), max(1, len(body) // 8)):
                self.wfile.write(body[i : i + max(1, len(body) // 8)])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.wfile.write(body)

    def send_stream(self, data: bytes, ctype: str, headers: dict[str, str]) -> None:
        """Chunked transfer without Content-Length (like NBIA's StreamingOutput)."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        step = 64 * 1024
        for i in range(0, len(data), step):
            piece = data[i : i + step]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def basic_auth(self) -> tuple[str, str] | None:
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return None
        user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
        return user, pw

    def blob(self, path: str) -> None:
        blob = self.emulator.blobs.get("/blob" + path)
        if self.fault == "403":
            return self.send_simple(403, HTML_403, "text/html")
        if blob is None:
            return self.send_simple(404, b"not found", "text/plain")
        self.send_blob(blob)

    # ------------------------------------------------------------------ PhysioNet
    def physionet(self, path: str) -> None:
        em = self.emulator
        parts = path.strip("/").split("/", 3)
        if len(parts) < 3 or parts[0] != "files":
            return self.send_simple(404, HTML_404, "text/html")
        proj = em.physionet.get((parts[1], parts[2]))
        rel = parts[3] if len(parts) > 3 else ""
        if proj is None:
            return self.send_simple(404, HTML_404, "text/html")
        if proj.login_page:
            return self.send_simple(200, HTML_LOGIN, "text/html; charset=utf-8")
        if proj.protected:
            ua = self.headers.get("User-Agent", "")
            creds = self.basic_auth()
            if not ua.startswith(("Wget/", "libwfdb/")):
                return self.send_simple(403, HTML_403, "text/html; charset=utf-8")
            if creds is None or proj.users.get(creds[0]) != creds[1]:
                return self.send_simple(
                    401,
                    b"",
                    "text/html",
                    {"WWW-Authenticate": 'Basic realm="PhysioNet", charset="UTF-8"'},
                )
            if creds[0] not in proj.signed:
                return self.send_simple(403, HTML_403, "text/html; charset=utf-8")
        if rel == "SHA256SUMS.txt":
            sums = proj.sums if proj.sums is not None else sha256sums(proj.files)
            return self.send_blob(Blob(sums, "text/plain"))
        data = proj.files.get(rel)
        if data is None:
            return self.send_simple(404, HTML_404, "text/html")
        self.send_blob(Blob(data))

    # ------------------------------------------------------------------ Kaggle (REST v1)
    def kaggle(self, path: str) -> None:
        em = self.emulator
        if path.startswith("/storage/"):
            blob = em.blobs.get(path)
            return self.send_blob(blob) if blob else self.send_simple(404, b"", "text/plain")
        creds = self.basic_auth()
        if creds is None or em.kaggle_users.get(creds[0]) != creds[1]:
            return self.send_json({"code": 401, "message": "Unauthorized"}, 401)
        p = path.removeprefix("/api/v1/").split("/")
        if p[0] == "datasets":
            ref = f"{p[2]}/{p[3]}"
            ds = em.kaggle.get(ref)
            if ds is None or ds.get("competition"):
                return self.send_simple(404, b"", "text/plain")
            if p[1] == "list":
                return self.send_json(
                    {
                        "datasetFiles": [
                            {
                                "ref": n,
                                "name": n,
                                "totalBytes": len(d),
                                "creationDate": "2020-01-01",
                            }
                            for n, d in ds["files"].items()
                        ],
                        "errorMessage": None,
                    }
                )
            fname = "/".join(p[4:])
            return self._kaggle_download(ds, p[3], fname)
        if p[0] == "competitions":
            cid = p[3]
            comp = em.kaggle.get(cid)
            if comp is None or not comp.get("competition"):
                return self.send_simple(404, b"", "text/plain")
            if creds[0] not in comp.get("accepted", set()):
                return self.send_simple(403, RULES_403, "application/json")
            if p[2] == "list":
                return self.send_json(
                    [{"ref": n, "name": n, "totalBytes": len(d)} for n, d in comp["files"].items()]
                )
            if p[2] == "download-all":
                return self._kaggle_download(comp, cid, "")
            return self._kaggle_download(comp, cid, "/".join(p[4:]))
        self.send_simple(404, b"", "text/plain")

    def _kaggle_download(self, ds: dict[str, Any], slug: str, fname: str) -> None:
        em = self.emulator
        if not fname:
            key = f"/storage/{slug}/bundle/archive.zip"
            em.blobs.setdefault("/kaggle" + key, Blob(make_zip(ds["files"]), "application/zip"))
        elif fname not in ds["files"]:
            return self.send_json({"code": 404, "message": "Not found"}, 404)
        elif fname in ds.get("zipped", set()):
            key = f"/storage/{slug}/compressed/{fname}.zip"
            em.blobs.setdefault("/kaggle" + key, Blob(make_zip({fname: ds["files"][fname]})))
        else:
            key = f"/storage/{slug}/raw/{fname}"
            em.blobs.setdefault("/kaggle" + key, Blob(ds["files"][fname]))
        blob = em.blobs["/kaggle" + key]
        em.blobs[key] = blob
        self.redirect(f"{em.url}/kaggle{key}?X-Goog-Signature=sekrit-signature")

    # ------------------------------------------------------------------ Zenodo
    def zenodo(self, path: str) -> None:
        em = self.emulator
        p = path.strip("/").split("/")
        if len(p) < 3 or p[:2] != ["api", "records"] or p[2] not in em.zenodo:
            return self.send_json({"status": 404, "message": "PID does not exist."}, 404)
        files = em.zenodo[p[2]]
        if len(p) == 3:
            base = f"{em.url}/zenodo/api/records/{p[2]}"
            return self.send_json(
                {
                    "id": int(p[2]),
                    "files": [
                        {
                            "id": f"id-{k}",
                            "key": k,
                            "size": len(d),
                            "checksum": "md5:" + hashlib.md5(d).hexdigest(),
                            "links": {"self": f"{base}/files/{k}/content"},
                        }
                        for k, d in files.items()
                    ],
                },
                headers={"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59"},
            )
        if len(p) >= 6 and p[3] == "files" and p[-1] == "content":
            key = "/".join(p[4:-1])
            if key in files:
                return self.send_blob(Blob(files[key]))
        self.send_json({"status": 404, "message": "not found"}, 404)

    # ------------------------------------------------------------------ GitHub
    def gh(self, path: str) -> None:
        em = self.emulator
        p = path.strip("/").split("/")
        if len(p) == 4 and p[2] == "archive" and p[3].endswith(".tar.gz"):
            ref = p[3][: -len(".tar.gz")]
            if (f"{p[0]}/{p[1]}", ref) not in em.github:
                return self.send_simple(404, b"Not Found", "text/plain")
            return self.redirect(f"{em.url}/gh/codeload/{p[0]}/{p[1]}/tar.gz/{ref}")
        if len(p) == 5 and p[0] == "codeload":
            repo, ref = f"{p[1]}/{p[2]}", p[4]
            files = em.github.get((repo, ref))
            if files is None:
                return self.send_simple(404, b"Not Found", "text/plain")
            top = f"{p[2]}-{ref.removeprefix('v')}"
            return self.send_blob(Blob(make_targz(files, top), "application/x-gzip"))
        if p[0] == "assets":
            blob = em.blobs.get(path)
            return self.send_blob(blob) if blob else self.send_simple(404, b"", "text/plain")
        self.send_simple(404, b"Not Found", "text/plain")

    def ghraw(self, path: str) -> None:
        p = path.strip("/").split("/", 3)
        files = self.emulator.github.get((f"{p[0]}/{p[1]}", p[2]))
        if files is None or p[3] not in files:
            return self.send_simple(404, b"404: Not Found", "text/plain")
        self.send_blob(Blob(files[p[3]], "text/plain; charset=utf-8"))

    def ghapi(self, path: str) -> None:
        em = self.emulator
        p = path.strip("/").split("/")
        if p[0] == "repos" and len(p) == 6 and p[3:5] == ["releases", "tags"]:
            assets = em.releases.get((f"{p[1]}/{p[2]}", p[5]))
            if assets is None:
                return self.send_json({"message": "Not Found"}, 404)
            out = []
            for i, (name, data) in enumerate(sorted(assets.items())):
                out.append(
                    {
                        "id": i,
                        "name": name,
                        "size": len(data),
                        "url": f"{em.url}/ghapi/repos/{p[1]}/{p[2]}/releases/assets/{i}",
                        "browser_download_url": f"https://github.com/{p[1]}/{p[2]}/releases/"
                        f"download/{p[5]}/{name}",
                        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
                    }
                )
            return self.send_json({"tag_name": p[5], "assets": out})
        if p[0] == "repos" and len(p) == 6 and p[3:5] == ["releases", "assets"]:
            for (repo, _tag), assets in em.releases.items():
                if repo == f"{p[1]}/{p[2]}":
                    name, data = sorted(assets.items())[int(p[5])]
                    key = f"/assets/{p[1]}/{p[2]}/{name}"
                    em.blobs[key] = Blob(data)
                    return self.redirect(f"{em.url}/gh{key}")
        self.send_json({"message": "Not Found"}, 404)

    # ------------------------------------------------------------------ Hugging Face
    def hf(self, path: str) -> None:
        em = self.emulator
        p = path.strip("/").split("/")
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if p[0] == "cdn":
            blob = em.blobs.get(path)
            return self.send_blob(blob) if blob else self.send_simple(404, b"", "text/plain")
        if p[0] == "api":  # /api/{datasets|models}/{owner}/{name}/tree/{rev}
            rtype = p[1][:-1]
            repo = em.hf.get((rtype, f"{p[2]}/{p[3]}", unquote(p[5])))
            if repo is None:
                return self.send_json(
                    {"error": "Repository not found"}, 404, {"X-Error-Code": "RepoNotFound"}
                )
            if (err := self._hf_gate(repo, token)) is not None:
                return err
            items = []
            for name, data in sorted(repo["files"].items()):
                item: dict[str, Any] = {
                    "type": "file",
                    "path": name,
                    "size": len(data),
                    "oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
                }
                if name in repo.get("lfs", set()):
                    item["lfs"] = {
                        "oid": hashlib.sha256(data).hexdigest(),
                        "size": len(data),
                        "pointerSize": 134,
                    }
                items.append(item)
            items.insert(0, {"type": "directory", "path": "sub", "oid": "0" * 40})
            page = int(self.query.get("cursor", "0"))
            chunk = items[page * 2 : (page + 1) * 2]
            headers = {}
            if (page + 1) * 2 < len(items):
                nxt = f"{em.url}/hf/{'/'.join(p)}?recursive=true&expand=false&cursor={page + 1}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            return self.send_json(chunk, headers=headers)
        if p[0] == "datasets":
            rtype, p = "dataset", p[1:]
        else:
            rtype = "model"
        if len(p) < 5 or p[2] != "resolve":
            return self.send_json({"error": "not found"}, 404)
        repo = em.hf.get((rtype, f"{p[0]}/{p[1]}", unquote(p[3])))
        if repo is None:
            return self.send_json(
                {"error": "Revision not found"}, 404, {"X-Error-Code": "RevisionNotFound"}
            )
        if (err := self._hf_gate(repo, token)) is not None:
            return err
        name = "/".join(p[4:])
        data = repo["files"].get(name)
        if data is None:
            return self.send_json(
                {"error": "Entry not found"}, 404, {"X-Error-Code": "EntryNotFound"}
            )
        commit = {"X-Repo-Commit": "c" * 40}
        if name in repo.get("lfs", set()):
            sha = hashlib.sha256(data).hexdigest()
            key = f"/cdn/{sha}"
            em.blobs[key] = Blob(data, etag=f'"{sha}"')
            return self.redirect(
                f"{em.url}/hf{key}",
                {**commit, "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(data))},
            )
        self.send_blob(Blob(data, extra=commit))

    def _hf_gate(self, repo: dict[str, Any], token: str) -> bool | None:
        if not repo.get("gated"):
            return None
        if not token:
            self.send_json(
                {"error": "Access to dataset is restricted. You must be authenticated."},
                401,
                {"X-Error-Code": "GatedRepo"},
            )
            return True
        if token not in repo.get("approved", set()):
            self.send_json(
                {
                    "error": "Access to dataset is restricted and you are not in the "
                    "authorized list."
                },
                403,
                {"X-Error-Code": "GatedRepo"},
            )
            return True
        return None

    # ------------------------------------------------------------------ TCIA (NBIA v4)
    def tcia(self, path: str) -> None:
        em = self.emulator
        ep = path.removeprefix("/nbia-api/services/v4/")
        if ep == "getSeries":
            series = em.tcia.get(self.query.get("Collection", ""), [])
            if not series:
                return self.send_simple(200, b"", "application/json")
            return self.send_json(
                [
                    {k: v for k, v in s.items() if k != "files"}
                    | {"FileSize": sum(len(d) for d in s["files"].values())}
                    for s in series
                ]
            )
        if ep == "getImageWithMD5Hash":
            uid = self.query.get("SeriesInstanceUID", "")
            for series in em.tcia.values():
                for s in series:
                    if s["SeriesInstanceUID"] == uid:
                        names = {f"{i:08d}.dcm": d for i, d in enumerate(s["files"].values(), 1)}
                        csv = "Filename,MD5Hash\n" + "".join(
                            f"{n},{hashlib.md5(d).hexdigest()}\n" for n, d in names.items()
                        )
                        if self.fault == "corrupt":
                            first = next(iter(names))
                            names[first] = b"X" + names[first][1:]
                        payload = {"LICENSE": b"CC BY 4.0", **names, "md5hashes.csv": csv.encode()}
                        return self.send_stream(
                            make_zip(payload),
                            "application/octet-stream",
                            {"Content-Disposition": f'attachment; filename="{uid}.zip"'},
                        )
            return self.send_simple(
                400,
                f"Image with given SeriesInstanceUID,{uid}, is not in public domain.".encode(),
                "application/json",
            )
        self.send_simple(404, b"", "text/plain")

    # ------------------------------------------------------------------ S3 (path-style)
    def s3(self, path: str) -> None:
        em = self.emulator
        bucket, _, key = path.lstrip("/").partition("/")
        objects = em.s3.get(bucket)
        xml = "application/xml"
        if objects is None:
            body = s3_error("NoSuchBucket", "The specified bucket does not exist")
            return self.send_simple(404, body, xml)
        if key:
            blob = objects.get(key)
            if blob is None:
                return self.send_simple(404, s3_error("NoSuchKey", "no such key"), xml)
            return self.send_blob(blob)
        if bucket in em.s3_unlisted:
            return self.send_simple(403, s3_error("AccessDenied", "Access Denied"), xml)
        if self.query.get("list-type") != "2":
            return self.send_simple(400, s3_error("InvalidArgument", "list-type"), xml)
        prefix = self.query.get("prefix", "")
        keys = sorted(k for k in objects if k.startswith(prefix))
        token = self.query.get("continuation-token")
        start = int(base64.b64decode(token).decode()) if token else 0
        page = keys[start : start + em.s3_page]
        more = start + len(page) < len(keys)
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
            f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>",
            f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{em.s3_page}</MaxKeys>",
            f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>",
        ]
        for k in page:
            b = objects[k]
            parts.append(
                f"<Contents><Key>{escape(k)}</Key><LastModified>2017-01-01T00:00:00.000Z"
                f"</LastModified><ETag>{b.etag.replace(chr(34), '&quot;')}</ETag>"
                f"<Size>{len(b.data)}</Size><StorageClass>STANDARD</StorageClass></Contents>"
            )
        if token:
            parts.append(f"<ContinuationToken>{escape(token)}</ContinuationToken>")
        if more:
            nxt = base64.b64encode(str(start + len(page)).encode()).decode()
            parts.append(f"<NextContinuationToken>{nxt}</NextContinuationToken>")
        parts.append("</ListBucketResult>")
        self.send_simple(200, "".join(parts).encode(), xml)
