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
