"""Raw files that would run code if unpickled: climb never unpickles raw data."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from climb.core.errors import ClimbError
from climb.io.graphs import GraphFormatError, load_npy_no_code, read_braingb_npy


class _Payload:
    """Unpickling this runs ``open(marker, 'w').write('pwned')``."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


class _SysPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (f"touch {self.marker}",))


def _crafted(path: Path, payload: object, as_dict: bool) -> Path:
    corr = np.eye(3, dtype=np.float32)[None].repeat(2, 0)
    obj = {"corr": corr, "label": np.array([0, 1]), "site": payload} if as_dict else payload
    np.save(path, np.array(obj, dtype=object), allow_pickle=True)
    return path


@pytest.mark.parametrize("as_dict", [True, False])
@pytest.mark.parametrize("kind", [_Payload, _SysPayload])
def test_crafted_npy_does_not_run_code(tmp_path: Path, as_dict: bool, kind: type) -> None:
    marker = tmp_path / "MARKER"
    path = _crafted(tmp_path / "ABIDE.npy", kind(marker), as_dict)
    # the file is a valid .npy: np.load(allow_pickle=True) would run the payload
    assert path.read_bytes()[:6] == b"\x93NUMPY"
    with pytest.raises(GraphFormatError) as e:
        read_braingb_npy(path)
    assert not marker.exists()
    assert "never runs code" in e.value.what and e.value.where == str(path)
    with pytest.raises(GraphFormatError):
        load_npy_no_code(path)
    assert not marker.exists()


def test_payload_hidden_in_a_nested_object_array(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    inner = np.empty(2, dtype=object)
    inner[0], inner[1] = "ok", _Payload(marker)
    path = tmp_path / "ABIDE.npy"
    np.save(path, np.array({"corr": np.zeros((2, 3, 3)), "label": [0, 1], "site": inner}), True)
    with pytest.raises(GraphFormatError):
        read_braingb_npy(path)
    assert not marker.exists()


def test_genuine_braingb_file_still_reads(tmp_path: Path) -> None:
    """BrainGB's layout (a dict of arrays, site names as strings or an object array)."""
    corr = np.random.default_rng(0).normal(size=(4, 5, 5)).astype(np.float32)
    sites = np.empty(4, dtype=object)
    sites[:] = ["NYU", "UM_1", "NYU", "USM"]
    for site in (np.array(["NYU", "UM_1", "NYU", "USM"]), sites, ["NYU", "UM_1", "NYU", "USM"]):
        np.save(tmp_path / "ABIDE.npy", {"corr": corr, "label": np.array([0, 1, 0, 1]),
                                         "site": site, "subject_id": np.arange(4)})  # fmt: skip
        d = read_braingb_npy(tmp_path / "ABIDE.npy")
        np.testing.assert_array_equal(d["corr"], corr)
        assert d["label"].tolist() == [0, 1, 0, 1] and d["id"].tolist() == [0, 1, 2, 3]
        assert [str(s) for s in d["site"]] == ["NYU", "UM_1", "NYU", "USM"]
    np.save(tmp_path / "plain.npy", corr)
    np.testing.assert_array_equal(load_npy_no_code(tmp_path / "plain.npy"), corr)


def test_truncated_or_fake_npy_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "ABIDE.npy"
    np.save(p, np.array({"corr": np.zeros((2, 3, 3)), "label": [0, 1]}), allow_pickle=True)
    p.write_bytes(p.read_bytes()[:-20])
    with pytest.raises(GraphFormatError, match="damaged"):
        read_braingb_npy(p)
    (tmp_path / "fake.npy").write_bytes(pickle.dumps({"corr": 1}))
    with pytest.raises(GraphFormatError, match=r"not a \.npy"):
        read_braingb_npy(tmp_path / "fake.npy")


def test_climb_prepare_on_a_crafted_abide_npy(tmp_path: Path) -> None:
    """The audit's reproduction: `climb prepare abide` over a crafted BrainGB ABIDE.npy."""
    from climb.prepare.pipeline import prepare

    marker = tmp_path / "MARKER"
    raw = tmp_path / "root" / "raw" / "abide"
    raw.mkdir(parents=True)
    _crafted(raw / "ABIDE.npy", _Payload(marker), as_dict=True)
    with pytest.raises(ClimbError) as e:
        prepare("abide", tmp_path / "root")
    assert "ABIDE.npy" in e.value.render()
    assert not marker.exists()
    assert not (tmp_path / "root" / "stores" / "abide" / "dataset.json").exists()
