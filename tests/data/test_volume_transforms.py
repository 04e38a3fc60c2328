"""ct_window / video_to_float: load-time transforms of HU volumes and uint8 videos."""

from __future__ import annotations

import pytest
import torch

from climb.core.errors import ClimbError
from climb.data.transforms import build_transforms
from climb.data.volume_transforms import CT_WINDOWS


def test_ct_window_presets_as_channels() -> None:
    hu = torch.tensor([[-1400.0, -600.0, 0.0, 40.0, 240.0, 1000.0]]).view(1, 1, 1, 6)  # (B,Z,H,W)
    fn = build_transforms([{"name": "ct_window", "presets": ["lung", "mediastinum", "brain"]}])
    assert fn is not None
    y = fn(hu.to(torch.int16))
    assert y.shape == (1, 3, 1, 1, 6) and y.dtype == torch.float32
    lung, med, brain = y[0, :, 0, 0]
    # lung -600/1500: -1350..150
    assert lung.tolist() == pytest.approx([0, 0.5, 0.9, 0.92667, 1, 1], abs=1e-4)
    assert med.tolist() == pytest.approx([0, 0, 0.4, 0.5, 1, 1])  # 40/400: -160..240
    assert brain.tolist() == pytest.approx([0, 0, 0, 0.5, 1, 1])  # 40/80: 0..80
    assert CT_WINDOWS["climb"] == (80.0, 700.0)
    custom = build_transforms([{"name": "ct_window", "center": 0, "width": 2000}])
    assert custom is not None and custom(hu)[0, 0, 0, 0, 2].item() == pytest.approx(0.5)


def test_ct_window_errors() -> None:
    with pytest.raises(ClimbError, match="did you mean 'lung'"):
        build_transforms([{"name": "ct_window", "presets": ["lungs"]}])
    with pytest.raises(ClimbError, match="positive width"):
        build_transforms([{"name": "ct_window", "center": 0, "width": 0}])


def test_video_to_float_layouts() -> None:
    x = torch.arange(2 * 3 * 4 * 5 * 1, dtype=torch.uint8).view(2, 3, 4, 5, 1)  # B,T,H,W,C
    a = build_transforms([{"name": "video_to_float", "repeat_channels": 3}])
    assert a is not None
    y = a(x)
    assert y.shape == (2, 3, 3, 4, 5)  # B, C, T, H, W
    assert y[1, 2, 2, 3, 4].item() == pytest.approx(float(x[1, 2, 3, 4, 0]) / 255)
    b = build_transforms(
        [{"name": "video_to_float", "layout": "BTCHW", "mean": [0.5], "std": [0.25]}]
    )
    assert b is not None
    z = b(x)
    assert z.shape == (2, 3, 1, 4, 5)
    assert z[0, 1, 0, 2, 3].item() == pytest.approx((float(x[0, 1, 2, 3, 0]) / 255 - 0.5) / 0.25)


def test_ct_window_takes_int16_and_the_dataset_skips_its_float_copy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A single-window ct_window is bit-identical on int16 and on float32 input; the dataset
    hands it the stored int16 HU (no float copy of its own), and the batch is the same."""
    import numpy as np
    import pandas as pd

    from climb.core.schema import RaggedFieldSpec
    from climb.data import StoreDataset
    from climb.store import StoreWriter

    rng = np.random.default_rng(0)
    hu = torch.from_numpy(rng.integers(-2000, 3000, (2, 5, 4, 4)).astype(np.int16))
    for spec in ([{"name": "ct_window", "presets": ["lung"]}],
                 [{"name": "ct_window", "presets": ["lung", "brain"]}]):  # fmt: skip
        fn = build_transforms(spec)
        assert fn is not None and getattr(fn, "climb_takes_integers", False)
        assert torch.equal(fn(hu), fn(hu.float()))
    vols = [rng.integers(-1024, 2000, (int(t), 4, 4)).astype(np.int16) for t in (6, 9, 3)]
    w = StoreWriter(tmp_path / "ct", key="ct", num_samples=3,
                    fields=[RaggedFieldSpec("ct", "int16", (4, 4), rows_per_chunk=4)])  # fmt: skip
    w.write_ragged("ct", vols)
    cols = {"sample_id": ["a", "b", "c"], "patient_id": ["a", "b", "c"], "split": ["train"] * 3,
            "index": [0, 1, 2], "source_path": [""] * 3, "native_labels": ["{}"] * 3,
            "label__y": [0, 1, 0]}  # fmt: skip
    tasks = {"y": {"type": "binary", "classes": ["n", "p"], "label_space": None,
                   "column": "label__y", "policy": None}}  # fmt: skip
    w.finalize(pd.DataFrame(cols), tasks=tasks, splits={"rule": "t", "seed": 0, "counts": {}})
    win = build_transforms([{"name": "ct_window", "presets": ["lung"]}])
    seen: list[torch.dtype] = []

    def spy(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.dtype)
        return win(x)  # type: ignore[misc]

    spy.climb_takes_integers = True  # type: ignore[attr-defined]
    crop = {"ct": {"name": "crop", "length": 4}}
    ds = StoreDataset(tmp_path / "ct", fields="ct", tasks="y", ragged=crop, transforms={"ct": spy})
    got = ds.get_batch([0, 1, 2])["inputs"]["ct"]
    assert seen == [torch.int16]
    raw = StoreDataset(tmp_path / "ct", fields="ct", tasks="y", ragged=crop)
    x = raw.get_batch([0, 1, 2])["inputs"]["ct"]
    assert x.dtype == torch.float32  # without such a transform: floats, as before
    assert torch.equal(got, win(x))  # type: ignore[misc]
