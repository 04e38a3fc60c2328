"""The Ray executor on a local 2-CPU Ray cluster (started once for the module): the same store
as the local executor, a worker killed mid-run retried without duplicates or holes, Ray into
an s3:// root on a loopback S3 server, and the errors without Ray or a cluster."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from climb.core.errors import ClimbError
from climb.prepare.executors import RayExecutor, get_executor
from climb.prepare.pipeline import prepare, resolve_adapter
from climb.store import open_store
from tests.prepare.test_pipeline import build_raw

KEY = "cpsc2018"
pytestmark = pytest.mark.slow


class KillOnce:
    """The CPSC adapter, except that the worker reading ``victim`` dies (``os._exit``) the
    first time, as a machine lost mid-run would; ``marker`` records that it happened."""

    def __init__(self, marker: str, victim: str) -> None:
        self.inner = resolve_adapter(KEY)
        self.marker = marker
        self.victim = victim

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # while being unpickled
            raise AttributeError(name)
        return getattr(self.inner, name)

    def read_record(self, raw: Path, ref: Any, options: Any) -> Any:
        if ref.record_id == self.victim and not os.path.exists(self.marker):
            with open(self.marker, "w") as fh:
                fh.write(str(os.getpid()))
            os._exit(1)
        return self.inner.read_record(raw, ref, options)


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, Any]]:
    from tests.store.s3server import moto_s3

    with moto_s3() as info:
        yield info


@pytest.fixture(scope="module")
def ray_cluster(s3: dict[str, Any]) -> Iterator[Any]:
    # started after the S3 server: its workers inherit the AWS environment (credential chain
    # and endpoint), as the workers of a real cluster get theirs from each node
    ray = pytest.importorskip("ray")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need no tests/
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("root")
    build_raw(r / "raw" / KEY, extra=12)
    return r


@pytest.fixture(scope="module")
def local(root: Path) -> Any:
    return prepare(KEY, root, splits="patient", unit_size=4)


def test_ray_store_is_identical_to_local(ray_cluster: Any, root: Path, local: Any) -> None:
    seen: list[tuple[int, int]] = []
    ex = get_executor(1, "ray")
    assert ex.workers == 2  # the cluster's CPUs
    res = prepare(
        KEY,
        root,
        splits="patient",
        unit_size=4,
        executor=ex,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert res.content_hash == local.content_hash
    assert res.fingerprint == local.fingerprint
    assert res.counts == local.counts
    total = seen[-1][1]
    assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert open_store(res.store).meta["content_hash"] == local.content_hash


def test_killed_worker_is_retried_without_duplicates_or_holes(
    ray_cluster: Any, root: Path, local: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    adapter = KillOnce(str(marker), victim="A0005")
    res = prepare(
        KEY,
        root,
        splits="patient",
        unit_size=4,
        executor="ray",
        adapter=adapter,  # type: ignore[arg-type]
    )
    assert marker.exists(), "no worker was killed: the test would prove nothing"
    killed_pid = int(marker.read_text())
    assert killed_pid != os.getpid()
    s, ref = open_store(res.store), open_store(local.store)
    assert list(s.samples["sample_id"]) == list(ref.samples["sample_id"])  # no hole, no twin
    assert s.samples["sample_id"].is_unique
    assert res.content_hash == local.content_hash
    assert len(res.quarantined) == len(local.quarantined)


def test_ray_into_s3(ray_cluster: Any, s3: dict[str, Any], root: Path, local: Any) -> None:
    from tests.store.s3server import list_keys

    url = f"s3://{s3['bucket']}/ray"
    res = prepare(KEY, url, raw_root=root, splits="patient", unit_size=4, executor="ray")
    assert res.content_hash == local.content_hash
    keys = list_keys(s3["endpoint"], s3["bucket"], "ray/")
    assert f"ray/stores/{KEY}/dataset.json" in keys
    assert not [k for k in keys if ".work" in k or ".lock" in k]


def test_unreachable_ray_address_fails_fast() -> None:
    t0 = time.perf_counter()
    with pytest.raises(ClimbError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:1"):
        get_executor(1, "ray", address="127.0.0.1:1")
    assert time.perf_counter() - t0 < 10
    with pytest.raises(ClimbError, match="bad Ray address"):
        get_executor(1, "ray", address="nohostport")
    with pytest.raises(ClimbError, match="--address is for the Ray executor"):
        get_executor(2, "local", address="127.0.0.1:6379")


def test_missing_ray_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ClimbError, match=r"pip install 'climb\[ray\]'"):
        RayExecutor(2)
