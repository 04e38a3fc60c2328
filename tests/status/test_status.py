"""`climb status` on a local root (fetched / verified / prepared / stale / incomplete / runs)
and on an s3:// root served by a loopback S3 server."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from climb.cli import main
from climb.core.errors import ClimbError
from climb.prepare.pipeline import prepare
from climb.status.api import dataset_status
from tests.prepare.test_pipeline import build_raw

KEY = "cpsc2018"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _manifest(raw: Path) -> None:
    files = {}
    for p in sorted(raw.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            rel = p.relative_to(raw).as_posix()
            files[rel] = {
                "size": p.stat().st_size,
                "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
            }
    (raw / ".climb-fetch.json").write_text(json.dumps({"format": 1, "files": files}))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("root")
    raw = r / "raw" / KEY
    build_raw(raw)
    for p in list(raw.rglob("*")):  # real files (the fixture links CLIMB's split file)
        if p.is_symlink():
            data = p.read_bytes()
            p.unlink()
            p.write_bytes(data)
    _manifest(raw)
    prepare(KEY, r, splits="patient")
    return r


def test_fetched_prepared_fresh(root: Path) -> None:
    (st,) = dataset_status([KEY], root)
    raw_files = [
        p for p in (root / "raw" / KEY).rglob("*") if p.is_file() and not p.name.startswith(".")
    ]
    assert st.fetched and st.raw_files == len(raw_files)
    assert st.raw_bytes == sum(p.stat().st_size for p in raw_files)
    assert st.verified is True
    meta = json.loads((root / "stores" / KEY / "dataset.json").read_text())
    assert st.prepared and st.samples == meta["num_samples"]
    quarantine = (root / "stores" / KEY / "quarantine.jsonl").read_text().splitlines()
    assert st.quarantined == len(quarantine) > 0
    assert st.fingerprint == meta["fingerprint"]
    assert st.store_bytes == sum(
        p.stat().st_size for p in (root / "stores" / KEY).rglob("*") if p.is_file()
    )
    assert st.stale is False
    (other,) = dataset_status(["ptbxl"], root)
    assert not other.fetched and not other.prepared and other.stale is None


def test_changed_raw_file_is_stale_and_unverified(root: Path, tmp_path: Path) -> None:
    r = tmp_path / "r"
    shutil.copytree(root, r, symlinks=True)
    victim = sorted((r / "raw" / KEY).rglob("*.hea"))[0]
    victim.write_text(victim.read_text() + "# edited\n")
    (st,) = dataset_status([KEY], r)
    assert st.stale is True and st.stale_reason == "the raw files changed"
    assert st.verified is False and "do not match the manifest" in st.verify_note
    # a store folder whose dataset.json is missing is an unfinished write, not a store
    (r / "stores" / KEY / "dataset.json").unlink()
    (st,) = dataset_status([KEY], r)
    assert not st.prepared and st.incomplete


def test_runs_are_listed(root: Path, tmp_path: Path) -> None:
    r = tmp_path / "r"
    shutil.copytree(root, r, symlinks=True)
    run = r / "runs" / "cpsc-baseline"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(f"data:\n  dataset: {KEY}\nmodel: {{name: x}}\n")
    other = r / "runs" / "ptbxl-run"
    other.mkdir()
    (other / "config.yaml").write_text("data:\n  dataset: ptbxl\n")
    (st,) = dataset_status([KEY], r, check_stale=False)
    assert [x["run"] for x in st.runs] == ["cpsc-baseline"] and st.runs[0]["finished"] is False
    assert st.stale is None


def test_cli_table_and_json(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "status", KEY, "ptbxl", "--root", str(root), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [d["key"] for d in data] == [KEY, "ptbxl"]
    assert data[0]["prepared"] and data[0]["stale"] is False and not data[1]["prepared"]
    code, out, _ = _run(capsys, "status", KEY, "--root", str(root))
    assert code == 0 and KEY in out and "fresh" in out
    code, _, err = _run(capsys, "status", "cpsc2019", "--root", str(root))
    assert code != 0 and "cpsc2018" in err  # did-you-mean, no traceback
    assert "Traceback" not in err


def test_unknown_key_is_a_clear_error(root: Path) -> None:
    with pytest.raises(ClimbError):
        dataset_status(["no_such_dataset"], root)


def test_s3_root(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.store.s3server import moto_s3

    monkeypatch.setenv("CLIMB_CHUNK_CACHE_DIR", str(tmp_path / "cache"))
    with moto_s3() as s3:
        url = f"s3://{s3['bucket']}/status"
        res = prepare(KEY, url, raw_root=root, splits="patient")
        (st,) = dataset_status([KEY], url, raw_root=root)
        (here,) = dataset_status([KEY], root)
        assert st.prepared and st.samples == here.samples and st.quarantined == here.quarantined
        assert st.fingerprint == res.fingerprint == here.fingerprint
        assert st.store_bytes and st.store_bytes > 0
        assert st.stale is False and st.fetched
        (none,) = dataset_status(["ptbxl"], url, raw_root=root)
        assert not none.prepared and not none.incomplete
        with pytest.raises(ClimbError, match="does not exist"):
            dataset_status([KEY], "s3://no-such-bucket-here/x", raw_root=root)
