"""Kaggle, Zenodo, GitHub, Hugging Face, TCIA and manual sources against their emulators."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from climb.card import Source
from climb.core.errors import ClimbError
from climb.fetch.engine import AccessError
from tests.fetch.emulators import Blob, Emulator
from tests.fetch.helpers import card, fetch, no_partials

DATA = {"train.csv": b"a,b\n" + b"1,2\n" * 5000, "images/x.png": os.urandom(4000)}


def test_kaggle_dataset_bundle_and_single_zipped_file(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.kaggle_users["kim"] = "key-kim-xyz"
    emu.kaggle["owner/ds"] = {"files": dict(DATA), "zipped": {"train.csv"}}
    c = card("kg", (Source(kind="kaggle", id="owner/ds"),))
    with pytest.raises(ClimbError, match="KAGGLE_USERNAME"):
        fetch(c, root)
    monkeypatch.setenv("KAGGLE_USERNAME", "kim")
    monkeypatch.setenv("KAGGLE_KEY", "wrong")
    with pytest.raises(AccessError, match="401"):
        fetch(c, root)
    kaggle_json = Path(env["HOME"]) / ".kaggle" / "kaggle.json"
    kaggle_json.parent.mkdir()
    kaggle_json.write_text('{"username": "kim", "key": "key-kim-xyz"}')
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    fetch(c, root)
    folder = root / "raw" / "kg"
    assert {p: (folder / p).read_bytes() for p in DATA} == DATA
    assert not (folder / "ds.zip").exists() and no_partials(folder) == []
    manifest = (folder / ".climb-fetch.json").read_text()
    assert "sekrit-signature" not in manifest and "key-kim" not in manifest
    c2 = card("kg2", (Source(kind="kaggle", id="owner/ds", include=("train.csv",)),))
    fetch(c2, root)
    assert (root / "raw" / "kg2" / "train.csv").read_bytes() == DATA["train.csv"]


def test_kaggle_competition_rules(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", "kim")
    monkeypatch.setenv("KAGGLE_KEY", "key-kim-xyz")
    emu.kaggle_users["kim"] = "key-kim-xyz"
    emu.kaggle["some-comp"] = {"files": dict(DATA), "competition": True, "accepted": set()}
    c = card("comp", (Source(kind="kaggle", id="some-comp", competition=True),), "competition")
    with pytest.raises(AccessError) as e:
        fetch(c, root)
    assert "accept this competition's rules" in e.value.what
    assert "https://www.kaggle.com/competitions/some-comp/rules" in e.value.render()
    emu.kaggle["some-comp"]["accepted"].add("kim")
    fetch(c, root)
    assert (root / "raw" / "comp" / "images/x.png").read_bytes() == DATA["images/x.png"]


def test_zenodo_md5_and_archive(emu: Emulator, env: dict, root: Path) -> None:
    from tests.fetch.emulators import make_zip

    emu.zenodo["123"] = {"labels.csv": b"id,y\n1,0\n", "data.zip": make_zip(DATA)}
    c = card("zn", (Source(kind="zenodo", id="123"),))
    fetch(c, root)
    folder = root / "raw" / "zn"
    assert (folder / "labels.csv").read_bytes() == b"id,y\n1,0\n"
    assert (folder / "images/x.png").read_bytes() == DATA["images/x.png"]
    emu.zenodo["124"] = {"labels.csv": b"id,y\n"}
    emu.fault("/zenodo/api/records/124/files/labels.csv/content", "corrupt*")
    res = fetch(card("zn2", (Source(kind="zenodo", id="124"),)), root)
    assert res.summary is not None and "md5" in res.summary.failed[0][1].what
    assert not (root / "raw" / "zn2" / "labels.csv").exists()


def test_github_archive_raw_and_release(emu: Emulator, env: dict, root: Path) -> None:
    files = {"README.md": b"# repo", "src/splits/a.csv": b"x\n1\n", "src/splits/b.csv": b"y\n"}
    emu.github[("org/repo", "abc1234")] = files
    emu.releases[("org/repo", "v1.0")] = {"weights.bin": os.urandom(3000), "notes.txt": b"n"}
    c = card(
        "gh",
        (
            Source(kind="github", id="org/repo", version="abc1234", include=("src/splits/*",)),
            Source(kind="github", id="org/repo", version="abc1234", include=("README.md",)),
            Source(kind="github", id="org/repo", version="v1.0", include=("release:*.bin",)),
        ),
    )
    fetch(c, root)
    folder = root / "raw" / "gh"
    assert (folder / "src/splits/a.csv").read_bytes() == files["src/splits/a.csv"]
    assert not (folder / "README.md").exists()  # filtered out of the archive
    assert (folder / "org-repo/README.md").read_bytes() == b"# repo"  # raw file, 2nd source
    rel = folder / "org-repo-2/weights.bin"
    assert rel.read_bytes() == emu.releases[("org/repo", "v1.0")]["weights.bin"]
    assert not (folder / "org-repo-2/notes.txt").exists()
    assert emu.requests("/gh/codeload/org/repo/tar.gz/abc1234")  # followed GitHub's redirect


def test_huggingface_tree_lfs_and_gated(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"a.txt": b"hello", "data/b.parquet": os.urandom(5000), "c.json": b"{}"}
    emu.hf[("dataset", "org/ds", "rev1")] = {"files": files, "lfs": {"data/b.parquet"}}
    c = card("hfd", (Source(kind="huggingface", id="org/ds", version="rev1", repo_type="dataset"),))
    fetch(c, root)
    folder = root / "raw" / "hfd"
    assert {p: (folder / p).read_bytes() for p in files} == files
    assert emu.requests("/hf/cdn/")  # the LFS file came through the CDN redirect
    emu.hf[("dataset", "org/gated", "r")] = {"files": files, "gated": True, "approved": {"hf_good"}}
    g = card(
        "hfg",
        (Source(kind="huggingface", id="org/gated", version="r", repo_type="dataset"),),
        "registration",
    )
    with pytest.raises(AccessError, match="gated"):
        fetch(g, root)
    monkeypatch.setenv("HF_TOKEN", "hf_good")
    fetch(g, root)
    assert (root / "raw" / "hfg" / "a.txt").read_bytes() == b"hello"
    # git blob ids verify non-LFS files: a corrupt body is refused
    emu.fault("/hf/datasets/org/ds/resolve/rev1/c.json", "corrupt*")
    res = fetch(card("hfc", c.sources), root)
    assert res.summary is not None and [p for p, _ in res.summary.failed] == ["c.json"]


def test_tcia_series_with_md5(emu: Emulator, env: dict, root: Path) -> None:
    emu.tcia["Demo-Coll"] = [
        {
            "SeriesInstanceUID": "1.2.3",
            "PatientID": "P1",
            "Modality": "CT",
            "files": {"a": b"DICM" * 100, "b": b"DICM" * 50},
        },
        {"SeriesInstanceUID": "1.2.4", "PatientID": "P2", "Modality": "CT", "files": {"a": b"X"}},
    ]
    fetch(card("tc", (Source(kind="tcia", id="Demo-Coll"),)), root)
    folder = root / "raw" / "tc"
    assert (folder / "P1/1.2.3/00000002.dcm").read_bytes() == b"DICM" * 50
    assert (folder / "P2/1.2.4/00000001.dcm").read_bytes() == b"X"
    emu.fault("/tcia/nbia-api/services/v4/getImageWithMD5Hash", "corrupt")
    res = fetch(card("tc2", (Source(kind="tcia", id="Demo-Coll", include=("P1/*",)),)), root)
    assert res.summary is not None and "MD5" in res.summary.failed[0][1].what
    assert not (root / "raw" / "tc2" / "P1" / "1.2.3" / "00000001.dcm").exists()
    with pytest.raises(ClimbError, match="no public series"):
        fetch(card("tc3", (Source(kind="tcia", id="Nope"),)), root)


def test_malicious_archives_from_a_server(emu: Emulator, env: dict, root: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        ok = tarfile.TarInfo("good.txt")
        ok.size = 2
        tf.addfile(ok, io.BytesIO(b"ok"))
        link = tarfile.TarInfo("evil")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../../etc/passwd"
        tf.addfile(link)
    emu.blobs["/blob/evil.tar.gz"] = Blob(buf.getvalue())
    res = fetch(card("evil", (Source(kind="url", url=f"{emu.url}/blob/evil.tar.gz"),)), root)
    assert res.summary is not None and "outside" in res.summary.failed[0][1].what
    folder = root / "raw" / "evil"
    assert not (folder / "good.txt").exists() and not (folder / "evil").exists()
    assert no_partials(folder) == []


def test_manual_source(env: dict, root: Path) -> None:
    from climb.fetch.api import verify_folder

    c = card(
        "man",
        (
            Source(
                kind="manual",
                url="https://example.org/form",
                instructions="Fill the form",
                expected_layout="images/*.png\nlab.csv",
            ),
        ),
    )
    res = fetch(c, root)
    assert [m for _, m in res.manual_missing] == [["images/*.png", "lab.csv"]]
    folder = root / "raw" / "man"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "1.png").write_bytes(b"png")
    (folder / "lab.csv").write_text("id\n")
    res = fetch(c, root)
    assert not res.manual_missing and res.manual_ok == 2
    assert verify_folder("man", folder).ok
    (folder / "lab.csv").write_text("changed!\n")
    rep = verify_folder("man", folder)
    assert [r for r, _ in rep.corrupt] == ["lab.csv"]
