"""Disk full (errno 28) during fetch, extraction and prepare: a clear error naming the path and
the space needed; nothing marked complete; the next run resumes. ENOSPC is simulated by
making the writer raise OSError(28) (no small quota can be made without root)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from climb.card import Source
from climb.core.errors import ClimbError
from climb.fetch import _stream
from climb.fetch.archive import extract
from tests.fetch.emulators import Blob, Emulator, make_zip
from tests.fetch.helpers import card, fetch

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_during_download(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(600_000)
    emu.blobs["/blob/f.bin"] = Blob(data)
    c = card("df", (Source(kind="url", url=f"{emu.url}/blob/f.bin"),))
    real = _stream.Sink._consume
    seen = {"n": 0}

    def full(self: _stream.Sink, chunk: bytes) -> None:
        seen["n"] += 1
        if seen["n"] > 1:
            raise ENOSPC
        real(self, chunk)

    monkeypatch.setattr(_stream.Sink, "_consume", full)
    res = fetch(c, root)
    assert res.summary is not None and len(res.summary.failed) == 1
    err = res.summary.failed[0][1]
    folder = root / "raw" / "df"
    assert "disk full while writing f.bin.part" in err.what
    assert "needs about" in err.what and "free" in err.what
    assert err.where == str(folder / "f.bin.part")
    assert not (folder / "f.bin").exists()  # nothing marked complete
    manifest = json.loads((folder / ".climb-fetch.json").read_text())
    assert "f.bin" not in manifest["files"]
    monkeypatch.setattr(_stream.Sink, "_consume", real)
    res = fetch(c, root)  # space freed: the same command resumes
    assert (folder / "f.bin").read_bytes() == data


def test_disk_full_during_extraction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from climb.fetch import archive

    a = tmp_path / "a.zip"
    a.write_bytes(make_zip({"x.bin": os.urandom(1000), "y.bin": b"y"}))

    def full(self: object, rel: str, *args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "t" / rel))

    monkeypatch.setattr(archive._Writer, "write", full)
    with pytest.raises(ClimbError, match=r"disk full while extracting a\.zip") as e:
        extract(a, tmp_path / "t")
    assert e.value.where == str(tmp_path / "t" / "x.bin")
    assert [p for p in (tmp_path / "t").rglob("*") if p.is_file()] == []


def test_disk_full_during_prepare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from climb.prepare.pipeline import prepare
    from climb.store import writer
    from climb.store.validate import validate
    from tests.prepare.test_pipeline import build_raw

    root = tmp_path / "root"
    build_raw(root / "raw" / "cpsc2018")
    real = writer.write_samples

    def full(path: object, *args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"{path}/samples.parquet")

    monkeypatch.setattr(writer, "write_samples", full)
    with pytest.raises(ClimbError, match="disk full while preparing cpsc2018") as e:
        prepare("cpsc2018", root, splits="patient")
    assert (e.value.where or "").endswith("samples.parquet")
    assert "bytes free" in e.value.what
    assert not (root / "stores" / "cpsc2018").exists()  # nothing moved into place
    monkeypatch.setattr(writer, "write_samples", real)
    res = prepare("cpsc2018", root, splits="patient")
    assert res.resumed_units >= 1 and validate(res.store).ok
