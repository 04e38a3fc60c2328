"""`climb fetch/verify/access` end to end: subprocesses, SIGKILL and resume, secrets."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from climb.core.errors import ClimbError
from climb.fetch.config import load_config
from climb.fetch.credentials import Credentials
from tests.fetch.emulators import Blob, Emulator
from tests.fetch.helpers import cli_cmd, no_partials, sha
from tests.fetch.test_engine import FILES

PASSWORD = "s3cret-PhysioNet-pw!"


@pytest.fixture(autouse=True)
def _test_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve the test cards in-process without registering them globally."""
    from climb import registry
    from tests.fetch import _cards_data

    real = registry.get_card
    monkeypatch.setattr(
        registry,
        "get_card",
        lambda key: _cards_data.CARDS[key]() if key in _cards_data.CARDS else real(key),
    )


def run(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `climb` in-process with exactly ``env`` as the environment (stdin not a TTY)."""
    import contextlib
    import io
    import sys

    from climb.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert not sys.stdin.isatty()
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_sigkill_mid_download_then_resume(emu: Emulator, env: dict, root: Path) -> None:
    data = os.urandom(8 << 20)
    emu.blobs["/blob/big.bin"] = Blob(data)
    emu.fault("/blob/big.bin", "stall:30")  # half the body, then a long stall
    env = {**env, "FETCHTEST_BIG_URL": f"{emu.url}/blob/big.bin"}
    proc = subprocess.Popen(
        cli_cmd("fetch", "fetchtest_big", "--root", str(root)),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    folder = root / "raw" / "fetchtest_big"
    part = folder / "big.bin.part"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (part.exists() and part.stat().st_size > 0):
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert part.exists() and 0 < part.stat().st_size < len(data)
    assert not (folder / "big.bin").exists()  # nothing partial at the final path
    emu.faults.clear()
    res = run(env, "fetch", "fetchtest_big", "--root", str(root))
    assert res.returncode == 0, res.stderr
    assert sha((folder / "big.bin").read_bytes()) == sha(data)
    assert no_partials(folder) == []
    last = emu.requests("/blob/big.bin")[-1]["headers"]
    assert last.get("Range", "").startswith("bytes=") and last["Range"] != "bytes=0-"
    assert run(env, "verify", "fetchtest_big", "--root", str(root)).returncode == 0


def test_secret_never_printed_and_no_prompt(emu: Emulator, env: dict, root: Path) -> None:
    emu.add_physionet(
        "secret-db", "1.0.0", dict(FILES), protected=True, users={"alice": PASSWORD}, signed=set()
    )
    env = {**env, "PHYSIONET_USERNAME": "alice", "PHYSIONET_PASSWORD": PASSWORD}
    env.pop("CLIMB_NO_PROMPT")  # stdin is not a terminal: must not prompt anyway
    res = run(env, "fetch", "fetchtest_cred", "--root", str(root), timeout=60)
    assert res.returncode == 2 and "sign-dua/secret-db/1.0.0" in res.stderr
    assert "Traceback" not in res.stderr
    emu.physionet[("secret-db", "1.0.0")].signed.add("alice")
    emu.fault("/physionet/files/secret-db/1.0.0/rec/001.dat", "500", "drop")
    res2 = run(env, "fetch", "fetchtest_cred", "--root", str(root))
    assert res2.returncode == 0, res2.stderr
    acc = run(env, "access", "fetchtest_cred")
    assert "configured (from environment PHYSIONET_PASSWORD)" in acc.stdout
    nopw = run(
        {k: v for k, v in env.items() if not k.startswith("PHYSIONET")},
        "fetch",
        "fetchtest_cred",
        "--root",
        str(root / "other"),
    )
    assert nopw.returncode == 2 and "PHYSIONET_USERNAME" in nopw.stderr
    logs = "".join(r.stdout + r.stderr for r in (res, res2, acc, nopw))
    written = "".join(
        p.read_text(errors="replace")
        for p in root.rglob("*")
        if p.is_file() and p.suffix in (".json", ".txt")
    )
    assert PASSWORD not in logs and PASSWORD not in written
    assert "alice:" not in logs


def test_dry_run_verify_and_progress(emu: Emulator, env: dict, root: Path) -> None:
    data = os.urandom(300_000)
    emu.blobs["/blob/big.bin"] = Blob(data)
    env = {**env, "FETCHTEST_BIG_URL": f"{emu.url}/blob/big.bin"}
    dry = run(env, "fetch", "fetchtest_big", "--root", str(root), "--dry-run")
    assert dry.returncode == 0 and "big.bin" in dry.stdout and "1 files" in dry.stdout
    assert not (root / "raw").exists()
    got = run(env, "fetch", "fetchtest_big", "--root", str(root))
    assert got.returncode == 0 and "1 downloaded" in got.stdout
    assert "fetch fetchtest_big: 1/1 files" in got.stderr  # plain progress line, not a TTY
    folder = root / "raw" / "fetchtest_big"
    (folder / "big.bin").write_bytes(b"tampered")
    (folder / "stray.txt").write_text("x")
    (folder / "half.bin.part").write_bytes(b"x")
    ver = run(env, "verify", "fetchtest_big", "--root", str(root))
    assert ver.returncode == 1
    assert "corrupt  big.bin" in ver.stdout and "extra    stray.txt" in ver.stdout
    assert "partial  half.bin.part" in ver.stdout
    (folder / "big.bin").unlink()
    assert "missing  big.bin" in run(env, "verify", "fetchtest_big", "--root", str(root)).stdout


def test_manual_cli_prints_steps(env: dict, root: Path) -> None:
    res = run(env, "fetch", "fetchtest_manual", "--root", str(root))
    assert res.returncode == 4
    assert "Fill in the form" in res.stdout and "images/*.png" in res.stdout
    acc = run(env, "access", "fetchtest_manual")
    assert "https://example.org/request" in acc.stdout


def test_credentials_file_must_be_0600(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(env["CLIMB_CONFIG_DIR"]) / "credentials.toml"
    path.write_text('[physionet]\nusername = "u"\npassword = "toml-secret"\n')
    path.chmod(0o644)
    creds = Credentials(load_config(), allow_prompt=False)
    with pytest.raises(ClimbError, match="chmod 600") as e:
        creds.find("physionet")
    assert "toml-secret" not in e.value.render()
    path.chmod(0o600)
    cred = Credentials(load_config(), allow_prompt=False).find("physionet")
    assert cred is not None and cred.username == "u" and "toml-secret" not in repr(cred)
    netrc = Path(env["HOME"]) / ".netrc"
    path.unlink()
    netrc.write_text("machine 127.0.0.1 login n password netrc-secret\n")
    netrc.chmod(0o600)
    cred = Credentials(load_config(), allow_prompt=False).find("physionet")
    assert cred is not None and cred.username == "n" and cred.secret.reveal() == "netrc-secret"


def test_config_file_and_env_override(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(env["CLIMB_CONFIG_DIR"]) / "config.toml"
    path.write_text('[urls]\nzenodo = "https://mirror.example.org/zen/"\n[fetch]\nworkers = 3\n')
    monkeypatch.delenv("CLIMB_ZENODO_URL")
    cfg = load_config()
    assert cfg.url("zenodo") == "https://mirror.example.org/zen" and cfg.workers == 3
    monkeypatch.setenv("CLIMB_ZENODO_URL", "http://127.0.0.1:9/z")
    monkeypatch.setenv("CLIMB_FETCH_WORKERS", "5")
    cfg = load_config()
    assert cfg.url("zenodo") == "http://127.0.0.1:9/z" and cfg.workers == 5
    path.write_text('[urls]\nnope = "x"\n')
    with pytest.raises(ClimbError, match="unknown source"):
        load_config()


def test_paths_data_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from climb.core.paths import data_root, raw_dir

    monkeypatch.delenv("CLIMB_ROOT", raising=False)
    assert data_root() == Path("~/climb-data").expanduser()
    monkeypatch.setenv("CLIMB_ROOT", str(tmp_path))
    assert raw_dir("x") == tmp_path / "raw" / "x"
    assert data_root(tmp_path / "y") == tmp_path / "y"
