"""Stores on object storage, against a real S3 protocol server on loopback (moto in server mode,
spoken to by s3fs/botocore over HTTP; no client mock): prepare into s3://, identical content
to a local prepare, atomic commit, network faults mid-upload, missing bucket, two writers,
the bounded chunk cache."""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from climb.core.errors import ClimbError
from climb.prepare.pipeline import prepare
from climb.store import open_store
from climb.store.fs import ChunkCache, Loc, RemoteLock, describe_error
from tests.prepare.test_pipeline import build_raw
from tests.store.s3server import SECRET, FaultProxy, list_keys, moto_s3

KEY = "cpsc2018"


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, Any]]:
    with moto_s3() as info:
        yield info


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("root")
    build_raw(root / "raw" / KEY, extra=6)
    res = prepare(KEY, root, splits="patient", unit_size=4)
    return {"root": root, "res": res}


def _no_secret(text: str) -> None:
    assert SECRET not in text
    assert "loopback-key" not in text


def test_prepare_into_s3_is_identical_to_local(
    s3: dict[str, Any], local: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIMB_CHUNK_CACHE_DIR", str(tmp_path / "cache"))
    url = f"s3://{s3['bucket']}/same"
    res = prepare(KEY, url, raw_root=local["root"], splits="patient", unit_size=4)
    lres = local["res"]
    assert res.store == f"{url}/stores/{KEY}"
    assert res.content_hash == lres.content_hash
    assert res.fingerprint == lres.fingerprint
    assert res.counts == lres.counts
    # only the store is left: no work files, no lock, no assembly folder
    keys = list_keys(s3["endpoint"], s3["bucket"], "same/")
    assert keys and all(k.startswith(f"same/stores/{KEY}/") for k in keys), keys[:5]
    remote, here = open_store(res.store), open_store(lres.store)
    assert remote.meta["content_hash"] == here.meta["content_hash"]
    assert remote.samples.equals(here.samples)
    idx = np.arange(len(here))[::-1]
    np.testing.assert_array_equal(remote.read("ecg", idx), here.read("ecg", idx))
    assert remote.quarantine() == here.quarantine()
    # the data layer reads it as it reads a local store
    from climb.data.dataset import StoreDataset

    ds_remote, ds_local = StoreDataset(res.store), StoreDataset(str(lres.store))
    assert len(ds_remote) == len(ds_local)
    a, b = ds_remote[len(ds_local) - 1], ds_local[len(ds_local) - 1]
    assert set(a) == set(b)

    def flat(x: Any, pre: str = "") -> dict[str, Any]:
        if isinstance(x, dict):
            return {k2: v2 for k, v in x.items() for k2, v2 in flat(v, f"{pre}{k}.").items()}
        return {pre: np.asarray(x)}

    fa, fb = flat(a), flat(b)
    assert fa.keys() == fb.keys() and "inputs.ecg." in fa
    for k in fa:
        np.testing.assert_array_equal(fa[k], fb[k])
    # the chunks came through the local cache (and a second read is served from it)
    cache_files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert cache_files
    from climb.store.fs import chunk_cache

    hits = chunk_cache().hits
    remote2 = open_store(res.store)
    remote2.read("ecg", idx)
    assert chunk_cache().hits > hits


def test_a_store_being_written_never_reads_as_complete(
    s3: dict[str, Any], local: dict[str, Any]
) -> None:
    from climb.core.schema import FieldSpec
    from climb.store.writer import StoreWriter

    url = f"s3://{s3['bucket']}/partial/stores/{KEY}"
    w = StoreWriter(url, key=KEY, fields=[FieldSpec("x", "float32", (3,), chunks=2)], num_samples=4)
    w.write("x", 0, np.ones((4, 3), dtype=np.float32))
    # arrays written, no dataset.json (the commit marker) yet: not a store
    with pytest.raises(ClimbError, match=r"dataset\.json is missing"):
        open_store(url)
    # a complete store being rewritten stops being visible first
    done = prepare(KEY, f"s3://{s3['bucket']}/redo", raw_root=local["root"], splits="patient")
    assert open_store(done.store)
    StoreWriter(done.store, key=KEY, fields=[], num_samples=0)
    with pytest.raises(ClimbError, match=r"dataset\.json is missing"):
        open_store(done.store)


def test_connection_reset_mid_upload_is_retried(s3: dict[str, Any], local: dict[str, Any]) -> None:
    proxy = FaultProxy((s3["host"], s3["port"]))
    try:
        so = {"endpoint_url": proxy.url}
        url = f"s3://{s3['bucket']}/reset"
        proxy.arm(after=1_500_000, mode="reset")  # while unit files / chunks are uploaded
        res = prepare(
            KEY, url, raw_root=local["root"], splits="patient", unit_size=4, storage_options=so
        )
        assert proxy.resets == 1, "the fault did not fire: the test would prove nothing"
        assert res.content_hash == local["res"].content_hash
        assert open_store(res.store, so).meta["content_hash"] == local["res"].content_hash
    finally:
        proxy.close()


def test_network_down_mid_upload_leaves_no_complete_store(
    s3: dict[str, Any], local: dict[str, Any]
) -> None:
    proxy = FaultProxy((s3["host"], s3["port"]))
    try:
        so = {
            "endpoint_url": proxy.url,
            "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
        }
        url = f"s3://{s3['bucket']}/down"
        proxy.arm(after=2_500_000, mode="down")
        with pytest.raises(ClimbError) as ei:
            prepare(
                KEY, url, raw_root=local["root"], splits="patient", unit_size=4, storage_options=so
            )
        assert proxy.resets == 1
        msg = str(ei.value)
        assert "cannot reach the object store" in msg
        _no_secret(msg)
        assert not any(
            k.endswith(f"{KEY}/dataset.json")
            for k in list_keys(s3["endpoint"], s3["bucket"], "down/")
        )
        proxy.heal()
        # the network is back: the same command resumes and finishes with the same content
        res = prepare(
            KEY, url, raw_root=local["root"], splits="patient", unit_size=4, storage_options=so
        )
        assert res.content_hash == local["res"].content_hash
    finally:
        proxy.close()


def test_missing_bucket_is_a_clear_error(s3: dict[str, Any], local: dict[str, Any]) -> None:
    with pytest.raises(ClimbError) as ei:
        prepare(KEY, "s3://no-such-bucket-here/x", raw_root=local["root"], splits="patient")
    msg = str(ei.value)
    assert "bucket 'no-such-bucket-here' does not exist" in msg
    assert "Traceback" not in msg
    _no_secret(msg)
    with pytest.raises(ClimbError, match="no store at"):
        open_store(f"s3://{s3['bucket']}/nothing/stores/{KEY}")


def test_denied_and_credential_errors_say_what_to_do_without_secrets() -> None:
    url = "s3://bucket/prefix"
    denied = describe_error(PermissionError("Access Denied"), url, {})
    assert "denied" in denied.what and "AWS_PROFILE" in (denied.fix or "")
    nocred = describe_error(RuntimeError("Unable to locate credentials"), url, {})
    assert "no credentials" in nocred.what
    for e in (denied, nocred):
        _no_secret(e.render())


def test_two_prepares_into_one_prefix(s3: dict[str, Any], local: dict[str, Any]) -> None:
    url = f"s3://{s3['bucket']}/twice"
    lock = RemoteLock(Loc(f"{url}/stores/.{KEY}.lock")).acquire()
    try:
        with pytest.raises(ClimbError, match="another prepare is writing") as ei:
            prepare(KEY, url, raw_root=local["root"], splits="patient")
        assert "pid" in str(ei.value)
    finally:
        lock.release()
    res = prepare(KEY, url, raw_root=local["root"], splits="patient")  # free again
    assert res.content_hash == local["res"].content_hash


def test_chunk_cache_is_bounded_and_survives_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ChunkCache(tmp_path / "c", max_bytes=3000)
    for i in range(10):
        cache.put("s3://b/s", f"c/{i}/0", bytes([i]) * 1000)
    files = [p for p in (tmp_path / "c").rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 3000 and len(files) == 3
    assert cache.get("s3://b/s", "c/9/0") == bytes([9]) * 1000  # the newest are kept
    assert cache.get("s3://b/s", "c/0/0") is None
    # a full disk turns the cache off (said once), reads go on from the object store
    real_open = open

    def full(path: Any, mode: str = "r", *a: Any, **k: Any) -> Any:
        if "w" in mode and str(tmp_path) in str(path):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr("builtins.open", full)
    cache.put("s3://b/s", "c/10/0", b"x" * 100)
    assert cache.disabled
    assert "the disk is full" in capsys.readouterr().err
    assert cache.get("s3://b/s", "c/10/0") is None


def test_cache_size_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from climb.store.fs import _cache_bytes

    monkeypatch.setenv("CLIMB_CHUNK_CACHE", "4G")
    assert _cache_bytes() == 4 * 1024**3
    monkeypatch.setenv("CLIMB_CHUNK_CACHE", "0")
    assert _cache_bytes() == 0
    monkeypatch.setenv("CLIMB_CHUNK_CACHE", "lots")
    with pytest.raises(ClimbError, match="CLIMB_CHUNK_CACHE"):
        _cache_bytes()


def test_raw_root_must_be_a_file_system(local: dict[str, Any]) -> None:
    with pytest.raises(ClimbError, match="raw files are read from a file system"):
        prepare(KEY, "s3://b/p", raw_root="s3://b/raw", splits="patient")


def test_json_round_trip_through_loc(s3: dict[str, Any]) -> None:
    loc = Loc(f"s3://{s3['bucket']}/loc")
    loc.join("a", "b.json").write_text(json.dumps({"x": 1}))
    assert json.loads(loc.join("a", "b.json").read_text()) == {"x": 1}
    assert loc.join("a").listdir() == ["b.json"]
    assert loc.du() == (1, len(json.dumps({"x": 1})))
    loc.rm()
    assert not loc.join("a", "b.json").exists()


def test_cli_prepare_into_s3_and_store_info(
    s3: dict[str, Any], local: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from climb.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = 0
        try:
            main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    url = f"s3://{s3['bucket']}/cli"
    code, out, err = run(
        "prepare", KEY, "--root", url, "--raw-root", str(local["root"]), "--splits", "patient"
    )
    assert code == 0, err
    assert f"wrote {url}/stores/{KEY}" in out
    _no_secret(out + err)
    code, out, err = run("store", "info", f"{url}/stores/{KEY}")
    assert code == 0, err
    assert KEY in out
    # an s3:// root without raw files under the local root: a clear error before any work
    code, out, err = run("prepare", KEY, "--root", url, "--raw-root", str(local["root"] / "nope"))
    assert code != 0 and "no raw data" in err and "--raw-root" in err
    assert "Traceback" not in err


def test_ragged_fields_on_s3(s3: dict[str, Any], tmp_path: Path) -> None:
    """Graphs (values + offsets arrays) written to and read from s3://, same content."""
    from climb.core.schema import graph_prefixes
    from climb.store.ragged import read_graphs
    from tests.conftest import shared_fixture

    src = shared_fixture("proteins/raw")
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "proteins").symlink_to(src, target_is_directory=True)
    here = prepare("proteins", tmp_path)
    there = prepare("proteins", f"s3://{s3['bucket']}/graphs", raw_root=tmp_path)
    assert there.content_hash == here.content_hash
    a_store, b_store = open_store(there.store), open_store(here.store)
    (prefix,) = graph_prefixes(b_store.fields)
    idx = [0, 7, len(b_store) - 1]
    for a, b in zip(
        read_graphs(a_store, prefix, idx), read_graphs(b_store, prefix, idx), strict=True
    ):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_denied_access_on_the_server(
    s3: dict[str, Any], local: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server checks credentials (moto's IAM authorisation on): our key is unknown to it,
    so every request is refused with 403; the error says so and shows no secret."""
    import moto.settings

    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    with pytest.raises(ClimbError) as ei:
        prepare(KEY, f"s3://{s3['bucket']}/denied", raw_root=local["root"], splits="patient")
    msg = str(ei.value)
    assert "was denied" in msg and "AWS_PROFILE" in msg
    _no_secret(msg)
    with pytest.raises(ClimbError, match="was denied"):
        open_store(f"s3://{s3['bucket']}/same/stores/{KEY}")
