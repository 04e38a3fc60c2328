"""The large-body fast path: big socket reads, and hashing + writing in a thread of their own."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path
from typing import Any

import httpcore
import pytest

from climb.card import Source
from climb.fetch import _stream
from climb.fetch.config import FetchConfig
from climb.fetch.engine import Engine
from climb.fetch.types import Checksum, Hasher
from tests.fetch.emulators import Emulator
from tests.fetch.helpers import card, fetch, no_partials, sha

BIG = {"big/a.dat": os.urandom(3 << 20), "big/b.dat": os.urandom(700_000), "RECORDS": b"x\n"}


@pytest.mark.parametrize(
    "faults", [(), ("drop",), ("truncate",), ("drop", "norange"), ("trickle",)]
)
def test_threaded_sink_recovers_resumes_and_verifies(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch, faults: tuple[str, ...]
) -> None:
    monkeypatch.setattr(_stream, "THREAD_MIN", 0)  # every body goes through the sink thread
    emu.add_physionet("big-db", "1.0.0", dict(BIG))
    if faults:
        emu.fault("/physionet/files/big-db/1.0.0/big/a.dat", *faults)
    c = card("pn_big_db", (Source(kind="physionet", id="big-db", version="1.0.0"),))
    fetch(c, root)
    folder = root / "raw" / "pn_big_db"
    for rel, data in BIG.items():
        assert sha((folder / rel).read_bytes()) == sha(data), rel
    assert no_partials(folder) == []
    reqs = emu.requests("big/a.dat")
    if faults[:1] == ("drop",):  # the retry resumed after exactly the bytes written and hashed
        rng = reqs[1]["headers"].get("Range", "")
        assert rng.startswith("bytes=") and rng != "bytes=0-"
        assert reqs[1]["headers"].get("If-Range")


def _chunks(n: int, size: int) -> list[bytes]:
    return [os.urandom(size) for _ in range(n)]


@pytest.mark.parametrize("threaded", [True, False])
def test_sink_writes_hashes_in_order_and_reports_all_progress(threaded: bool) -> None:
    chunks = _chunks(200, 5000)
    fh = io.BytesIO()
    hasher = Hasher(Checksum("md5", "0" * 32), None)
    reported: list[int] = []
    sink = _stream.Sink(fh, hasher, reported.append, threaded=threaded)
    for c in chunks:
        sink.put(c)
    sink.close()
    data = b"".join(chunks)
    assert fh.getvalue() == data
    assert hasher.sha256.hexdigest() == hashlib.sha256(data).hexdigest()
    assert hasher.other.hexdigest() == hashlib.md5(data).hexdigest()
    assert sum(reported) == len(data)
    assert len(reported) < 20  # throttled, not one call per chunk


class _FailingFile(io.BytesIO):
    def __init__(self, fail_after: int) -> None:
        super().__init__()
        self.left = fail_after

    def write(self, b: Any) -> int:
        self.left -= 1
        if self.left < 0:
            raise OSError(28, "No space left on device")
        return super().write(b)


def test_sink_thread_error_reaches_the_receiver_without_deadlock() -> None:
    sink = _stream.Sink(_FailingFile(3), Hasher(None, None), lambda n: None, threaded=True)
    done = threading.Event()
    raised: list[BaseException] = []

    def feed() -> None:
        try:
            for c in _chunks(10 * _stream.QUEUE_CHUNKS, 1000):
                sink.put(c)
            sink.close()
        except OSError as exc:
            raised.append(exc)
            try:
                sink.close()  # the error path closes again: still no hang, same error
            except OSError as again:
                raised.append(again)
        done.set()

    threading.Thread(target=feed, daemon=True).start()
    assert done.wait(10), "the receiving thread blocked"
    assert raised and all(e.errno == 28 for e in raised)  # type: ignore[attr-defined]


def test_sink_close_keeps_every_byte_received_on_an_error_path() -> None:
    fh = io.BytesIO()
    sink = _stream.Sink(fh, Hasher(None, None), lambda n: None, threaded=True)
    chunks = _chunks(50, 3000)
    with pytest.raises(RuntimeError):
        try:
            for c in chunks:
                sink.put(c)
            raise RuntimeError("connection lost")
        finally:
            sink.close()
    assert fh.getvalue() == b"".join(chunks)  # what a resume will Range after


class _FakeStream(httpcore.NetworkStream):
    def __init__(self) -> None:
        self.asked: list[int] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.asked.append(max_bytes)
        return b"x"


def test_bulk_stream_reads_large_and_engine_uses_it() -> None:
    inner = _FakeStream()
    s = _stream._BulkStream(inner)
    s.read(64 * 1024)
    assert inner.asked == [_stream.READ_SIZE]
    with Engine(FetchConfig()) as eng:
        pool = eng.client._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool._network_backend, _stream._BulkBackend)
