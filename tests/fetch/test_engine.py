"""The engine against the PhysioNet emulator and direct URLs, with injected faults."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from climb.card import Source
from climb.core.errors import ClimbError
from climb.fetch.engine import AccessError, parse_retry_after
from climb.fetch.manifest import MANIFEST_NAME
from tests.conftest import shared_fixture
from tests.fetch.emulators import Blob, Emulator, read_tree
from tests.fetch.helpers import card, fetch, no_partials, sha

FILES = {f"rec/{i:03d}.dat": os.urandom(3000 + i) for i in range(12)}
FILES["RECORDS"] = b"rec/000\nrec/001\n"


def pn_card(slug: str = "demo-db", access: str = "open", **kw: object):  # type: ignore[no-untyped-def]
    return card(
        "pn_" + slug.replace("-", "_"),
        (Source(kind="physionet", id=slug, version="1.0.0", **kw),),
        access=access,
    )


def assert_all_verified(folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        assert sha((folder / rel).read_bytes()) == sha(data), rel
    assert no_partials(folder) == []


def test_physionet_real_fixture_layout(emu: Emulator, env: dict, root: Path) -> None:
    fixture = shared_fixture("ptbxl")
    tree = read_tree(fixture)
    emu.add_physionet("ptb-xl", "1.0.3", dict(tree))
    c = card("ptbxl_t", (Source(kind="physionet", id="ptb-xl", version="1.0.3"),))
    res = fetch(c, root, workers=4)
    folder = root / "raw" / "ptbxl_t"
    assert res.summary is not None and res.summary.downloaded == len(tree)  # index included
    assert_all_verified(folder, tree)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert len(manifest["files"]) == len(tree)
    entry = manifest["files"]["ptbxl_database.csv"]
    assert entry["sha256"] == sha(tree["ptbxl_database.csv"]) and entry["size"] > 0
    assert entry["url"].endswith("/files/ptb-xl/1.0.3/ptbxl_database.csv")
    # a re-run only reads the index: every file is skipped from the manifest, no file GETs
    n = len(emu.requests("/physionet/files/"))
    res2 = fetch(c, root, workers=4)
    assert res2.summary is not None and res2.summary.skipped == len(tree)
    assert len(emu.requests("/physionet/files/")) == n + 1


def test_include_and_exclude_select_files(emu: Emulator, env: dict, root: Path) -> None:
    emu.add_physionet("demo-db", "1.0.0", dict(FILES))
    fetch(pn_card(include=("rec/*",)), root, exclude=("rec/00[0-8].dat",))
    folder = root / "raw" / "pn_demo_db"
    got = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.dat"))
    assert got == ["rec/009.dat", "rec/010.dat", "rec/011.dat"]
    assert not (folder / "RECORDS").exists()


@pytest.mark.parametrize(
    "faults", [("drop",), ("truncate",), ("500", "503"), ("drop", "norange"), ("trickle",)]
)
def test_faults_recover_and_verify(
    emu: Emulator, env: dict, root: Path, faults: tuple[str, ...]
) -> None:
    emu.add_physionet("demo-db", "1.0.0", dict(FILES))
    emu.fault("/physionet/files/demo-db/1.0.0/rec/003.dat", *faults)
    fetch(pn_card(), root)
    assert_all_verified(root / "raw" / "pn_demo_db", FILES)
    reqs = emu.requests("rec/003.dat")
    failing = sum(f not in ("norange", "trickle") for f in faults)  # these answer in full
    assert len(reqs) == failing + 1
    if faults[0] == "drop":  # the retry resumed with a guarded Range request
        assert reqs[1]["headers"].get("Range", "").startswith("bytes=")
        assert reqs[1]["headers"].get("Range") != "bytes=0-"
        assert reqs[1]["headers"].get("If-Range")


def test_429_honours_retry_after(emu: Emulator, env: dict, root: Path) -> None:
    emu.add_physionet("demo-db", "1.0.0", dict(FILES))
    emu.fault("/physionet/files/demo-db/1.0.0/rec/001.dat", "429:1")
    t0 = time.monotonic()
    fetch(pn_card(), root)
    assert time.monotonic() - t0 >= 1.0  # backoff_base is 0.01 s: only Retry-After explains it
    assert_all_verified(root / "raw" / "pn_demo_db", FILES)
    assert parse_retry_after("7") == 7.0 and parse_retry_after(None) is None


def test_slow_response_times_out_then_succeeds(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIMB_FETCH_READ_TIMEOUT", "0.3")
    emu.add_physionet("demo-db", "1.0.0", dict(FILES))
    emu.fault("/physionet/files/demo-db/1.0.0/rec/002.dat", "slow:1.0")
    fetch(pn_card(), root)
    assert_all_verified(root / "raw" / "pn_demo_db", FILES)
    assert len(emu.requests("rec/002.dat")) == 2


def test_wrong_checksum_keeps_nothing(emu: Emulator, env: dict, root: Path) -> None:
    emu.add_physionet("demo-db", "1.0.0", dict(FILES))
    emu.fault("/physionet/files/demo-db/1.0.0/rec/004.dat", "corrupt*")
    res = fetch(pn_card(), root)
    folder = root / "raw" / "pn_demo_db"
    assert res.summary is not None and [p for p, _ in res.summary.failed] == ["rec/004.dat"]
    assert "checksum mismatch" in res.summary.failed[0][1].what
    assert not (folder / "rec/004.dat").exists()
    assert no_partials(folder) == []
    others = {k: v for k, v in FILES.items() if k != "rec/004.dat"}
    assert_all_verified(folder, others)


def test_corrupt_final_file_is_replaced(emu: Emulator, env: dict, root: Path) -> None:
    emu.add_physionet("demo-db", "1.0.0", dict(FILES))
    fetch(pn_card(), root)
    target = root / "raw" / "pn_demo_db" / "rec/005.dat"
    target.write_bytes(b"garbage")
    fetch(pn_card(), root)
    assert target.read_bytes() == FILES["rec/005.dat"]


def test_credentialed_project(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.add_physionet(
        "secret-db",
        "1.0.0",
        dict(FILES),
        protected=True,
        users={"alice": "pw-alice-123", "bob": "pw-bob-456"},
        signed={"alice"},
    )
    c = pn_card("secret-db", access="credentialed")
    with pytest.raises(ClimbError) as e:
        fetch(c, root)
    assert "PHYSIONET_USERNAME" in e.value.render()
    monkeypatch.setenv("PHYSIONET_USERNAME", "alice")
    monkeypatch.setenv("PHYSIONET_PASSWORD", "wrong-password")
    with pytest.raises(AccessError) as e:
        fetch(c, root)
    assert "rejected" in e.value.what and "wrong-password" not in e.value.render()
    monkeypatch.setenv("PHYSIONET_USERNAME", "bob")
    monkeypatch.setenv("PHYSIONET_PASSWORD", "pw-bob-456")
    with pytest.raises(AccessError) as e:
        fetch(c, root)
    assert "physionet.org/sign-dua/secret-db/1.0.0/" in e.value.render()
    monkeypatch.setenv("PHYSIONET_USERNAME", "alice")
    monkeypatch.setenv("PHYSIONET_PASSWORD", "pw-alice-123")
    fetch(c, root)
    folder = root / "raw" / "pn_secret_db"
    assert_all_verified(folder, FILES)
    assert "pw-alice" not in (folder / MANIFEST_NAME).read_text()
    assert all(r["headers"]["User-Agent"].startswith("Wget/") for r in emu.requests("secret-db"))


def test_login_page_with_200_is_detected(emu: Emulator, env: dict, root: Path) -> None:
    emu.add_physionet("demo-db", "1.0.0", dict(FILES), login_page=True)
    with pytest.raises(AccessError, match="HTML page"):
        fetch(pn_card(), root)
    assert not (root / "raw" / "pn_demo_db" / "rec").exists()


def test_html_instead_of_a_data_file(emu: Emulator, env: dict, root: Path) -> None:
    data = os.urandom(5000)
    emu.blobs["/blob/a.bin"] = Blob(b"<!DOCTYPE html><html>login</html>", "text/html")
    c = card("urlhtml", (Source(kind="url", url=f"{emu.url}/blob/a.bin", sha256=sha(data)),))
    with pytest.raises(AccessError, match="HTML page"):
        fetch(c, root)
    assert not (root / "raw" / "urlhtml" / "a.bin").exists()


def test_url_with_pinned_sha256(emu: Emulator, env: dict, root: Path) -> None:
    data = os.urandom(200_000)
    emu.blobs["/blob/data.bin"] = Blob(data)
    c = card("urlok", (Source(kind="url", url=f"{emu.url}/blob/data.bin", sha256=sha(data)),))
    fetch(c, root)
    assert (root / "raw" / "urlok" / "data.bin").read_bytes() == data
    bad = card("urlbad", (Source(kind="url", url=f"{emu.url}/blob/data.bin", sha256="0" * 64),))
    res = fetch(bad, root)
    assert res.summary is not None and res.summary.failed
    assert not (root / "raw" / "urlbad" / "data.bin").exists()


def test_disk_space_check(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil as sh
    from collections import namedtuple

    emu.blobs["/blob/x.bin"] = Blob(b"x" * 1000)
    emu.add_physionet("demo-db", "1.0.0", dict(FILES))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(sh, "disk_usage", lambda p: usage(10, 10, 10))
    c = card("zen", (Source(kind="zenodo", id="42"),))
    emu.zenodo["42"] = {"big.bin": b"y" * 5000}
    with pytest.raises(ClimbError, match="not enough disk space"):
        fetch(c, root)
    assert not (root / "raw" / "zen" / "big.bin").exists()
