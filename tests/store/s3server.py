"""A real S3 protocol server on loopback for tests (moto's ThreadedMotoServer), and a TCP proxy
in front of it that can break the network: reset every open connection once after a number of
bytes went through it, or stay down (refuse every connection) from then on."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

#: credentials of the loopback server only (never a real secret); tests check it is never shown
SECRET = "loopback-secret-5f1c2d"


class FaultProxy:
    """``127.0.0.1:port`` -> ``upstream``; counts client bytes; ``arm(after, mode)`` makes it
    misbehave once ``after`` more bytes have been forwarded: ``"reset"`` closes every open
    connection once (then works again), ``"down"`` also refuses every later connection."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self.resets = 0
        self._trigger: int | None = None
        self._mode = ""
        self.down = False
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arm(self, after: int, mode: str = "reset") -> None:
        with self._lock:
            self._trigger = self.sent + after
            self._mode = mode

    def heal(self) -> None:
        with self._lock:
            self.down = False
            self._trigger = None

    def _accept(self) -> None:
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.down:
                c.close()
                continue
            try:
                u = socket.create_connection(self.upstream)
            except OSError:
                c.close()
                continue
            with self._lock:
                self._conns.update((c, u))
            threading.Thread(target=self._pipe, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if count:
                    fire = False
                    with self._lock:
                        self.sent += len(data)
                        if self._trigger is not None and self.sent >= self._trigger:
                            self._trigger = None
                            fire = True
                    if fire:
                        self._break_all()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def _break_all(self) -> None:
        with self._lock:
            conns, self._conns = list(self._conns), set()
            self.resets += 1
            if self._mode == "down":
                self.down = True
        for s in conns:
            with contextlib.suppress(OSError):
                s.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                s.close()

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self.sock.close()
        self._break_all()


@contextlib.contextmanager
def moto_s3(bucket: str = "climb-test") -> Iterator[dict[str, Any]]:
    """A moto S3 server on 127.0.0.1 with ``bucket``; the AWS environment (credentials of the
    standard chain, ``AWS_ENDPOINT_URL_S3``) points at it while the block runs."""
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        "AWS_ACCESS_KEY_ID": "loopback-key",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        yield {"endpoint": endpoint, "host": host, "port": port, "bucket": bucket}
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        srv.stop()


def list_keys(endpoint: str, bucket: str, prefix: str = "") -> list[str]:
    import boto3

    c = boto3.client("s3", endpoint_url=endpoint)
    keys: list[str] = []
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys
