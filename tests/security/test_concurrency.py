"""Two runs at once: two `climb prepare` or two `climb fetch` of one dataset. One holds the
lock; the other exits with a message naming the holder, or waits with --wait; the store and
the downloaded files stay valid."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from climb.core.errors import ClimbError
from climb.core.lock import LockedError, lock_path, read_owner, stage_lock
from climb.store.validate import validate
from tests.fetch.emulators import Blob, Emulator
from tests.fetch.helpers import cli_cmd, no_partials
from tests.prepare.test_pipeline import build_raw

SRC = os.environ.get("PYTHONPATH") or str(Path(__file__).resolve().parents[2] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}


def climb(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "climb", *args],
        env=env or ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def prep_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("proot")
    build_raw(r / "raw" / "cpsc2018")
    return r


# ------------------------------------------------------------------ the lock itself
def test_lock_names_its_holder_and_is_released(tmp_path: Path) -> None:
    with stage_lock(tmp_path, "ds", "prepare") as p:
        owner = read_owner(p)
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
        code = (
            "import sys; from climb.core.lock import stage_lock\n"
            f"with stage_lock({str(tmp_path)!r}, 'ds', 'prepare'): pass"
        )
        r = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
        assert r.returncode != 0
        assert f"pid {os.getpid()} on host {socket.gethostname()}" in r.stderr
        code2 = code.replace("'prepare')", "'prepare', wait=True, timeout=0.5)")
        r2 = subprocess.run([sys.executable, "-c", code2], env=ENV, capture_output=True, text=True)
        assert r2.returncode != 0 and "is running" in r2.stderr  # a timed wait gives up
    with stage_lock(tmp_path, "ds", "prepare"):  # released: taken again at once
        pass
    with stage_lock(tmp_path, "ds", "fetch"), stage_lock(tmp_path, "other", "prepare"):
        pass  # per dataset and stage


def test_lock_of_a_killed_holder_is_free(tmp_path: Path) -> None:
    """An OS lock dies with its holder (kill -9): no stale lock to clean up."""
    code = (
        "import time; from climb.core.lock import stage_lock\n"
        f"with stage_lock({str(tmp_path)!r}, 'ds', 'prepare'):\n"
        "    print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=ENV, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    with pytest.raises(LockedError), stage_lock(tmp_path, "ds", "prepare"):
        pass
    proc.kill()
    proc.wait()
    with stage_lock(tmp_path, "ds", "prepare"):
        pass


def test_fallback_lock_file_recovers_a_dead_local_owner(tmp_path: Path) -> None:
    """Where flock is unsupported: an O_EXCL lock file; a dead pid on this host is stale."""
    import json

    from climb.core.lock import _file_lock

    f = tmp_path / "x.lockfile"
    f.write_text(json.dumps({"pid": 2**22 + 12345, "host": socket.gethostname()}))
    with _file_lock(f, "ds", "prepare", False, None):
        assert read_owner(f)["pid"] == os.getpid()
    assert not f.exists()
    f.write_text(json.dumps({"pid": 1, "host": "another-node", "since": "t", "command": "c"}))
    with (
        pytest.raises(ClimbError, match="another-node") as e,
        _file_lock(f, "ds", "prepare", False, None),
    ):
        pass
    assert str(f) in (e.value.fix or "")


# ------------------------------------------------------------------ two prepares
def test_second_prepare_is_refused_naming_the_holder(prep_root: Path) -> None:
    with stage_lock(prep_root / "stores", "cpsc2018", "prepare"):
        p = climb("prepare", "cpsc2018", "--root", str(prep_root), "--splits", "patient", "-q")
        out, err = p.communicate(timeout=120)
    assert p.returncode == 2, (out, err)
    assert "another 'climb prepare' of cpsc2018 is running" in err
    assert f"pid {os.getpid()}" in err and "--wait" in err
    assert "wrote" not in out
    assert not (prep_root / "stores" / "cpsc2018" / "dataset.json").exists()


def test_prepare_with_wait_runs_after_the_holder(prep_root: Path) -> None:
    with stage_lock(prep_root / "stores", "cpsc2018", "prepare"):
        p = climb(
            "prepare", "cpsc2018", "--root", str(prep_root), "--splits", "patient", "-q", "--wait"
        )
        time.sleep(3)
        assert p.poll() is None  # waiting for the lock
        assert not (prep_root / "stores" / ".cpsc2018.work").exists()
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "wrote" in out
    assert validate(prep_root / "stores" / "cpsc2018").ok


def test_two_prepares_at_once_leave_a_valid_store(tmp_path: Path) -> None:
    r = tmp_path / "root"
    build_raw(r / "raw" / "cpsc2018", extra=30)
    args = ("prepare", "cpsc2018", "--root", str(r), "--splits", "patient", "-q")
    procs = [climb(*args), climb(*args)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(c for c, _, _ in results)
    assert codes[0] == 0, results
    for code, _out, err in results:  # a loser says why; nobody reports success over garbage
        assert code == 0 or (code == 2 and "is running" in err), results
    rep = validate(r / "stores" / "cpsc2018")
    assert rep.ok, rep.errors
    assert not (r / "stores" / ".cpsc2018.assemble").exists()


# ------------------------------------------------------------------ two fetches
def test_second_fetch_is_refused_and_files_stay_right(emu: Emulator, env: dict, root: Path) -> None:
    data = os.urandom(3 << 20)
    emu.blobs["/blob/big.bin"] = Blob(data)
    env = {**env, "FETCHTEST_BIG_URL": f"{emu.url}/blob/big.bin", "PYTHONPATH": SRC}
    with stage_lock(root / "raw", "fetchtest_big", "fetch"):
        r = subprocess.run(
            cli_cmd("fetch", "fetchtest_big", "--root", str(root), "-q"),
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "another 'climb fetch' of fetchtest_big is running" in r.stderr
    assert emu.requests("/blob/big.bin") == []  # refused before any request
    # two at once against a slow server: one downloads, the other is refused (or finds it done)
    emu.fault("/blob/big.bin", "trickle*")
    procs = [
        subprocess.Popen(
            cli_cmd("fetch", "fetchtest_big", "--root", str(root), "-q"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert min(c for c, _, _ in results) == 0, results
    for code, _out, err in results:
        assert code == 0 or (code == 2 and "is running" in err), results
    final = root / "raw" / "fetchtest_big" / "big.bin"
    assert hashlib.sha256(final.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert no_partials(final.parent) == []
    assert not lock_path(root / "raw", "fetchtest_big", "fetch").read_text()  # released


def test_fetch_wait_waits(emu: Emulator, env: dict, root: Path) -> None:
    data = os.urandom(1 << 16)
    emu.blobs["/blob/big.bin"] = Blob(data)
    env = {**env, "FETCHTEST_BIG_URL": f"{emu.url}/blob/big.bin", "PYTHONPATH": SRC}
    with stage_lock(root / "raw", "fetchtest_big", "fetch"):
        p = subprocess.Popen(
            cli_cmd("fetch", "fetchtest_big", "--root", str(root), "-q", "--wait"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(2.5)
        assert p.poll() is None and emu.requests("/blob/big.bin") == []
    _out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert (root / "raw" / "fetchtest_big" / "big.bin").read_bytes() == data
