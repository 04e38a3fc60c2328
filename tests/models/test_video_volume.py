"""Video and volume encoders of the registry: every registered name builds and runs."""

from __future__ import annotations

import pytest
import torch

from climb.core.errors import ClimbError
from climb.models import build_encoder, list_encoders
from climb.models.video import TemporalPool

VIDEO_SHAPES = {"mvit_v2_s": (1, 3, 16, 224, 224), "swin3d_t": (1, 3, 4, 64, 64)}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow) if n == "mvit_v2_s" else n  # ~20 s on 2 CPUs
        for _, n in list_encoders("video")
        if n != "frame_pool"
    ],
)
def test_torchvision_video_encoders(name: str) -> None:
    torch.manual_seed(0)
    enc = build_encoder("video", name).eval()
    x = torch.randn(VIDEO_SHAPES.get(name, (2, 3, 4, 32, 32)))
    with torch.no_grad():
        y = enc(x)
    assert y.shape == (x.shape[0], enc.out_dim)
    assert enc.out_dim == (768 if name in VIDEO_SHAPES else 512)


def test_grey_video_repeated_and_shape_errors() -> None:
    enc = build_encoder("video", "r3d_18", in_channels=1).eval()
    with torch.no_grad():
        assert enc(torch.rand(1, 1, 4, 32, 32)).shape == (1, 512)
    with pytest.raises(ClimbError, match="expects \\(batch, 1, frames, H, W\\)"):
        enc(torch.rand(1, 4, 32, 32, 1))


@pytest.mark.parametrize("pool", ["mean", "attention"])
def test_frame_pool_over_image_encoder(pool: str) -> None:
    torch.manual_seed(0)
    enc = build_encoder("video", "frame_pool", image_encoder="resnet18", in_channels=1, pool=pool)
    enc.eval()
    x = torch.rand(2, 1, 5, 32, 32)
    with torch.no_grad():
        frames = enc.forward_frames(x)
        y = enc(x)
    assert frames.shape == (2, 5, 512) and y.shape == (2, 512)
    if pool == "mean":
        torch.testing.assert_close(y, frames.mean(1))
    # padding frames (mask False) do not change the pooled feature
    pad = torch.cat([x, torch.rand(2, 1, 3, 32, 32)], dim=2)
    mask = torch.tensor([[True] * 5 + [False] * 3] * 2)
    with torch.no_grad():
        torch.testing.assert_close(enc(pad, mask), y, atol=1e-5, rtol=1e-5)


def test_temporal_pool_attention_weights() -> None:
    p = TemporalPool(2, "attention")
    with torch.no_grad():
        p.score.weight.copy_(torch.tensor([[10.0, 0.0]]))  # type: ignore[union-attr]
        p.score.bias.zero_()  # type: ignore[union-attr]
    f = torch.tensor([[[1.0, 5.0], [0.0, 7.0]]])
    torch.testing.assert_close(p(f), torch.tensor([[1.0, 5.0]]), atol=1e-3, rtol=0)
    assert p(f, torch.tensor([[False, False]])).abs().sum() == 0


@pytest.mark.parametrize("name", ["densenet121_3d", "resnet18_3d", "resnet34_3d", "resnet50_3d"])
def test_monai_volume_encoders(name: str) -> None:
    enc = build_encoder("volume", name, in_channels=2).eval()
    with torch.no_grad():
        y = enc(torch.rand(1, 2, 32, 32, 32))
    assert y.shape == (1, enc.out_dim)
    assert enc.out_dim == {"densenet121_3d": 1024, "resnet50_3d": 2048}.get(name, 512)


def test_slice_pool_and_defaults() -> None:
    enc = build_encoder("volume", "slice_pool", image_encoder="resnet18", in_channels=3).eval()
    with torch.no_grad():
        assert enc(torch.rand(1, 3, 6, 32, 32)).shape == (1, 512)
    from climb.models import default_encoder

    assert default_encoder("video") == "r3d_18" and default_encoder("volume") == "resnet18_3d"
    with pytest.raises(ClimbError, match="unknown video encoder"):
        build_encoder("video", "r3d_19")
