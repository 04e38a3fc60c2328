"""Crafted archives: every traversal, link and bomb variant, and members with climb's reserved
names. Refused with a clear error; nothing is written outside the target, nothing at a final
path, and bombs are refused before their bytes are written."""

from __future__ import annotations

import io
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from climb.card import Source
from climb.core.errors import ClimbError
from climb.fetch import archive
from climb.fetch.archive import Limits, extract
from tests.fetch.emulators import Emulator, make_zip
from tests.fetch.helpers import card, fetch, no_partials

MiB = 1 << 20


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip built by hand from ``(name, deflated bytes, crc32, size, external_attr)``: lets a
    test reuse one compressed stream for many members (a 64-member bomb in a few ms)."""
    out = io.BytesIO()
    central = []
    for name, comp, crc, size, attr in entries:
        off = out.tell()
        n = name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(comp),
                              size, len(n), 0) + n + comp)  # fmt: skip
        central.append(
            struct.pack(
                "<4s6H3L5HLL",
                b"PK\x01\x02",
                0x31E,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(comp),
                size,
                len(n),
                0,
                0,
                0,
                0,
                attr,
                off,
            )
            + n
        )
    cd = out.tell()
    for c in central:
        out.write(c)
    end = out.tell()
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                          end - cd, cd, 0))  # fmt: skip
    return out.getvalue()


def zeros_member(size: int) -> tuple[bytes, int]:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(b"\0" * size) + c.flush(), zlib.crc32(b"\0" * size)


def bomb_64(path: Path) -> Path:
    """The audit's bomb: 64 members of 16 MiB of zeros, about 1 MB on disk, 1 GiB expanded."""
    comp, crc = zeros_member(16 * MiB)
    path.write_bytes(
        raw_zip([(f"m{i:02d}.bin", comp, crc, 16 * MiB, 0o100644 << 16) for i in range(64)])
    )
    return path


def _tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ------------------------------------------------------------------ bombs
def test_64_member_zip_bomb_is_refused_before_writing(tmp_path: Path) -> None:
    a = bomb_64(tmp_path / "bomb.zip")
    assert a.stat().st_size < 1_100_000
    with zipfile.ZipFile(a) as zf:  # a valid zip: what a naive extractor would write
        assert sum(i.file_size for i in zf.infolist()) == 64 * 16 * MiB
    target = tmp_path / "t"
    with pytest.raises(ClimbError, match="decompression bomb") as e:
        extract(a, target)
    assert "fetch.max_extract_ratio" in (e.value.fix or "")
    assert _tree(target) == []  # nothing written, not even in staging


def test_zip_bomb_through_fetch_keeps_nothing(emu: Emulator, env: dict, root: Path) -> None:
    emu.zenodo["66"] = {"bomb.zip": bomb_64(root.parent / "b.zip").read_bytes()}
    res = fetch(card("zb", (Source(kind="zenodo", id="66"),)), root)
    assert res.summary is not None and len(res.summary.failed) == 1
    assert "decompression bomb" in res.summary.failed[0][1].what
    folder = root / "raw" / "zb"
    assert [p for p in _tree(folder) if not p.startswith(".climb-fetch")] == []
    assert no_partials(folder) == []


def test_zip_bomb_limit_is_configurable(tmp_path: Path) -> None:
    a = bomb_64(tmp_path / "bomb.zip")
    # a user who expects it raises the documented limit (here: keep the test small, 2 members)
    comp, crc = zeros_member(16 * MiB)
    small = tmp_path / "two.zip"
    small.write_bytes(raw_zip([(f"m{i}.bin", comp, crc, 16 * MiB, 0) for i in range(2)]))
    with pytest.raises(ClimbError, match="decompression bomb"):
        extract(small, tmp_path / "t1")
    out = extract(small, tmp_path / "t2", limits=Limits(max_ratio=10_000))
    assert [e.size for e in out] == [16 * MiB, 16 * MiB]
    with pytest.raises(ClimbError, match="max_extract_bytes"):
        extract(a, tmp_path / "t3", limits=Limits(max_bytes=8 * MiB, max_ratio=1e9))


def test_many_small_members_add_up(tmp_path: Path) -> None:
    """The bound is on the archive's total, not per member: 100 members of 1 MiB, each far
    below the old per-member threshold (16 MiB), against a ratio limit of 100."""
    comp, crc = zeros_member(MiB)
    a = tmp_path / "many.zip"
    a.write_bytes(raw_zip([(f"d/{i:03d}", comp, crc, MiB, 0) for i in range(100)]))
    assert 100 * MiB > max(archive.RATIO_FLOOR_BYTES, 100 * a.stat().st_size)
    with pytest.raises(ClimbError, match="decompression bomb"):
        extract(a, tmp_path / "t", limits=Limits(max_ratio=100))
    assert _tree(tmp_path / "t") == []


def test_zip_member_larger_than_declared_is_refused(tmp_path: Path) -> None:
    comp, crc = zeros_member(4 * MiB)
    a = tmp_path / "lie.zip"
    a.write_bytes(raw_zip([("x.bin", comp, crc, 1000, 0)]))  # says 1000 bytes, holds 4 MiB
    with pytest.raises(ClimbError):
        extract(a, tmp_path / "t")
    assert _tree(tmp_path / "t") == []


def test_tar_member_declaring_a_huge_size_is_refused_before_writing(tmp_path: Path) -> None:
    info = tarfile.TarInfo("huge.bin")
    info.size = 64 << 30  # 64 GiB declared in a tiny .tar.gz
    raw = info.tobuf() + b"\0" * (1 << 16)
    a = tmp_path / "huge.tar.gz"
    import gzip

    a.write_bytes(gzip.compress(raw))
    with pytest.raises(ClimbError, match=r"decompression bomb|max_extract_bytes"):
        extract(a, tmp_path / "t")
    assert _tree(tmp_path / "t") == []


def test_tar_link_bomb_counts_every_copy(tmp_path: Path) -> None:
    """Links inside the archive are materialised as copies: each copy counts towards the total."""
    a = tmp_path / "links.tar"
    with tarfile.open(a, "w") as tf:
        m = tarfile.TarInfo("data.bin")
        m.size = MiB
        tf.addfile(m, io.BytesIO(b"\0" * MiB))
        for i in range(40):
            h = tarfile.TarInfo(f"l{i:03d}")
            h.type, h.linkname = tarfile.LNKTYPE, "data.bin"
            tf.addfile(h)
    with pytest.raises(ClimbError, match="decompression bomb") as e:
        extract(a, tmp_path / "t", limits=Limits(max_ratio=20))
    assert "link" in e.value.what
    assert _tree(tmp_path / "t") == []


# ------------------------------------------------------------------ traversal and links
ZIP_BAD = (
    "../evil.txt",
    "/abs/evil.txt",
    "C:/evil.txt",
    "a/../../evil.txt",
    "..\\..\\evil.txt",
)  # (a NUL byte: zipfile itself cuts the name there)


@pytest.mark.parametrize("name", ZIP_BAD)
def test_malicious_zip_names_are_refused(tmp_path: Path, name: str) -> None:
    comp, crc = zeros_member(10)
    a = tmp_path / "a.zip"
    a.write_bytes(raw_zip([("ok.txt", comp, crc, 10, 0), (name, comp, crc, 10, 0)]))
    with pytest.raises(ClimbError, match="unsafe or invalid archive"):
        extract(a, tmp_path / "x" / "t")
    assert _tree(tmp_path / "x") == []
    assert not (tmp_path / "evil.txt").exists() and not Path("/abs/evil.txt").exists()


@pytest.mark.parametrize("target", ["../../outside", "/etc/passwd", "../t2/x"])
def test_zip_symlink_out_is_refused(tmp_path: Path, target: str) -> None:
    data = target.encode()
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = c.compress(data) + c.flush()
    a = tmp_path / "l.zip"
    a.write_bytes(
        raw_zip([("link", comp, zlib.crc32(data), len(data), (stat.S_IFLNK | 0o777) << 16)])
    )
    with pytest.raises(ClimbError, match="points"):
        extract(a, tmp_path / "x" / "t")
    assert _tree(tmp_path / "x") == []


@pytest.mark.parametrize(
    "member",
    [
        ("../evil", tarfile.REGTYPE, ""),
        ("/abs/evil", tarfile.REGTYPE, ""),
        ("link", tarfile.SYMTYPE, "../../outside"),
        ("link", tarfile.SYMTYPE, "/etc/passwd"),
        ("hard", tarfile.LNKTYPE, "../outside"),
        ("hard", tarfile.LNKTYPE, "/etc/passwd"),
        ("dev", tarfile.CHRTYPE, ""),
        ("blk", tarfile.BLKTYPE, ""),
        ("fifo", tarfile.FIFOTYPE, ""),
        ("sub/link", tarfile.SYMTYPE, "../../.."),
    ],
)
def test_malicious_tar_members_are_refused(tmp_path: Path, member: tuple[str, bytes, str]) -> None:
    a = tmp_path / "a.tar.gz"
    with tarfile.open(a, "w:gz") as tf:
        ok = tarfile.TarInfo("ok.txt")
        ok.size = 2
        tf.addfile(ok, io.BytesIO(b"ok"))
        m = tarfile.TarInfo(member[0])
        m.type, m.linkname = member[1], member[2]
        tf.addfile(m, io.BytesIO(b"x") if m.isfile() else None)
    with pytest.raises(ClimbError, match="unsafe or invalid archive"):
        extract(a, tmp_path / "x" / "t")
    assert _tree(tmp_path / "x") == []


# ------------------------------------------------------------------ reserved names
@pytest.mark.parametrize(
    "name", [".climb-fetch.json", "sub/.climb-fetch.json", ".climb-extract-x/y", "top/.climb-lock"]
)
def test_archive_members_cannot_use_reserved_names(tmp_path: Path, name: str) -> None:
    a = tmp_path / "r.zip"
    a.write_bytes(make_zip({"ok.txt": b"ok", name: b'{"files": {}}'}))
    with pytest.raises(ClimbError, match="reserved"):
        extract(a, tmp_path / "t")
    assert _tree(tmp_path / "t") == []


def test_archive_cannot_overwrite_the_fetch_manifest(emu: Emulator, env: dict, root: Path) -> None:
    emu.zenodo["88"] = {"labels.csv": b"id\n1\n"}
    c = card("zm", (Source(kind="zenodo", id="88"),))
    fetch(c, root)
    manifest = root / "raw" / "zm" / ".climb-fetch.json"
    before = manifest.read_bytes()
    emu.zenodo["88"]["data.zip"] = make_zip({".climb-fetch.json": b'{"files": {}}', "x": b"1"})
    res = fetch(c, root)
    assert res.summary is not None and "reserved" in res.summary.failed[0][1].what
    after = manifest.read_text()
    assert '"labels.csv"' in after and after != '{"files": {}}'
    assert before.count(b"labels.csv") >= 1 and not (root / "raw" / "zm" / "x").exists()
