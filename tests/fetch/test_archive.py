"""Safe extraction: traversal, absolute paths, link escapes, devices, bombs."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from climb.core.errors import ClimbError
from climb.fetch.archive import Limits, extract


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tf:
        for m in members:
            tf.addfile(m, io.BytesIO(data.get(m.name, b"")) if m.isfile() else None)
    return path


def _member(
    name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = ""
) -> tarfile.TarInfo:
    m = tarfile.TarInfo(name)
    m.type, m.size, m.linkname = kind, size, link
    return m


def test_good_archive_with_internal_link(tmp_path: Path) -> None:
    a = _tar(
        tmp_path / "a.tar",
        [_member("top/x.txt", size=3), _member("top/y.txt", tarfile.SYMTYPE, link="x.txt")],
        {"top/x.txt": b"abc"},
    )
    out = extract(a, tmp_path / "t", strip=1)
    assert [(e.path, e.size) for e in out] == [("x.txt", 3), ("y.txt", 3)]
    assert not (tmp_path / "t" / "y.txt").is_symlink()
    assert not list((tmp_path / "t").glob(".climb-extract-*"))


@pytest.mark.parametrize(
    "member",
    [
        _member("../evil.txt", size=1),
        _member("/abs/evil.txt", size=1),
        _member("a/../../evil.txt", size=1),
        _member("link", tarfile.SYMTYPE, link="../../outside"),
        _member("link", tarfile.SYMTYPE, link="/etc/passwd"),
        _member("hard", tarfile.LNKTYPE, link="../outside"),
        _member("dev", tarfile.CHRTYPE),
        _member("fifo", tarfile.FIFOTYPE),
    ],
)
def test_malicious_tar_is_refused(tmp_path: Path, member: tarfile.TarInfo) -> None:
    a = _tar(
        tmp_path / "a.tar",
        [_member("ok.txt", size=2), member],
        {"ok.txt": b"ok", member.name: b"x"},
    )
    target = tmp_path / "t"
    with pytest.raises(ClimbError, match="unsafe or invalid archive"):
        extract(a, target)
    assert sorted(p.name for p in target.rglob("*")) == []  # nothing, not even ok.txt
    assert not (tmp_path / "evil.txt").exists()


def test_malicious_zip_is_refused(tmp_path: Path) -> None:
    a = tmp_path / "a.zip"
    with zipfile.ZipFile(a, "w") as zf:
        zf.writestr("ok.txt", b"ok")
        zf.writestr("../../evil.txt", b"x")
    with pytest.raises(ClimbError, match=r"'\.\.'"):
        extract(a, tmp_path / "t")
    b = tmp_path / "b.zip"
    with zipfile.ZipFile(b, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "../../etc/passwd")
    with pytest.raises(ClimbError, match="outside"):
        extract(b, tmp_path / "t2")


def test_decompression_bomb_limits(tmp_path: Path) -> None:
    a = tmp_path / "bomb.zip"
    with zipfile.ZipFile(a, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (40 << 20))
    with pytest.raises(ClimbError, match="ratio"):
        extract(a, tmp_path / "t", limits=Limits(max_ratio=100))
    with pytest.raises(ClimbError, match="more than"):
        extract(a, tmp_path / "t2", limits=Limits(max_bytes=1 << 20, max_ratio=1e9))
    assert not (tmp_path / "t" / "zeros.bin").exists()
    assert extract(a, tmp_path / "t3", limits=Limits(max_ratio=1e9))[0].size == 40 << 20
    os.remove(tmp_path / "t3" / "zeros.bin")
