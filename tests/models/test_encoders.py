"""Every registered encoder: (B, out_dim) features, gradients flow, clear errors."""

from __future__ import annotations

import pytest
import torch

from climb.core.errors import ClimbError
from climb.models import build_encoder, default_encoder, list_encoders
from climb.models.signal import ECG_JEPA_CONFIG, PatchTransformer1d, sincos_2d

torch.set_num_threads(1)


def _tiny_input(modality: str, name: str) -> tuple[dict[str, object], torch.Tensor]:
    if modality == "signal":
        return {"in_channels": 3, "seq_len": 256}, torch.randn(2, 3, 256)
    if modality in ("tabular", "table"):
        return {"in_features": 10, "hidden": 16}, torch.randn(2, 10)
    if modality == "text":  # a tiny random BERT built from a config, nothing downloaded
        cfg = {"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 1,
               "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 32}  # fmt: skip
        return {"config": cfg, "freeze": False}, torch.randint(1, 50, (2, 12))
    if modality == "graph":  # a batch of 2 small graphs with 1-d edge attributes
        from torch_geometric.data import Batch, Data

        ei = torch.tensor([[0, 1, 2, 3, 1], [1, 2, 3, 0, 0]])
        graphs = [
            Data(x=torch.randn(4, 3), edge_index=ei, edge_attr=torch.rand(5, 1)) for _ in range(2)
        ]
        return {"in_channels": 3, "edge_dim": 1, "hidden": 8, "layers": 2}, Batch.from_data_list(
            graphs
        )  # type: ignore[return-value]
    if modality == "video":  # (B, C, T, H, W); mvit and swin need their own clip sizes
        shape = {"mvit_v2_s": (1, 3, 16, 224, 224), "swin3d_t": (2, 3, 4, 64, 64)}
        kw: dict[str, object] = {"in_channels": 3}
        if name == "frame_pool":
            kw["image_encoder"] = "resnet18"
        return kw, torch.randn(shape.get(name, (2, 3, 4, 32, 32)))
    if modality == "volume":  # (B, C, D, H, W)
        kw = {"in_channels": 2}
        if name == "slice_pool":
            kw["image_encoder"] = "resnet18"
            return kw, torch.rand(2, 2, 6, 32, 32)
        return kw, torch.rand(2, 2, 32, 32, 32)
    kwargs: dict[str, object] = {"in_chans": 3}
    if name.startswith("vit"):
        kwargs["img_size"] = 32
    return kwargs, torch.randn(2, 3, 32, 32)


@pytest.mark.parametrize(
    ("modality", "name"),
    [
        pytest.param(m, n, marks=pytest.mark.slow) if n == "mvit_v2_s" else (m, n)
        for m, n in list_encoders()
    ],
)
def test_encoder_forward_backward(modality: str, name: str) -> None:
    torch.manual_seed(0)
    kwargs, x = _tiny_input(modality, name)
    enc = build_encoder(modality, name, **kwargs)
    assert isinstance(enc.out_dim, int) and enc.out_dim > 0
    out = enc(x)
    assert out.shape == (x.shape[0] if isinstance(x, torch.Tensor) else 2, enc.out_dim)
    assert torch.isfinite(out).all()
    out.pow(2).mean().backward()
    grads = [p.grad for p in enc.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)


def test_defaults_and_listing() -> None:
    assert default_encoder("signal") == "xresnet1d"
    assert default_encoder("image") == "convnextv2_atto"
    assert ("signal", "patch_transformer") in list_encoders("signal")
    assert all(m == "image" for m, _ in list_encoders("image"))


def test_one_channel_image() -> None:
    enc = build_encoder("image", in_chans=1)
    out = enc(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, enc.out_dim)


def test_unregistered_timm_name_and_unknown_names() -> None:
    enc = build_encoder("image", "resnet10t", in_channels=1)
    assert enc(torch.randn(2, 1, 32, 32)).shape == (2, enc.out_dim)
    with pytest.raises(ClimbError, match="unknown image encoder"):
        build_encoder("image", "no_such_model_xyz")
    with pytest.raises(ClimbError, match="did you mean"):
        build_encoder("signal", "xresnet1d_18")
    with pytest.raises(ClimbError, match="no encoders for modality"):
        build_encoder("smell")
    with pytest.raises(ClimbError, match="bad options"):
        build_encoder("signal", "xresnet1d", in_channels=3, no_such_option=1)


def test_wrong_channel_count_is_a_clear_error() -> None:
    enc = build_encoder("signal", in_channels=12, seq_len=256)
    with pytest.raises(ClimbError, match="expects input"):
        enc(torch.randn(1, 8, 256))
    img = build_encoder("image", "resnet18", in_chans=1)
    with pytest.raises(ClimbError, match="in_chans"):
        img(torch.randn(1, 3, 32, 32))


def test_xresnet_depths_and_pooling() -> None:
    small = build_encoder("signal", "xresnet1d", in_channels=2, depth=18, widen=0.25, pool="avg")
    assert small.out_dim == 128
    big = build_encoder("signal", "xresnet1d50", in_channels=2, widen=0.25)
    assert big.out_dim == 2 * 512  # avg+max concat of 128 * 4 channels
    with pytest.raises(ClimbError, match="no depth"):
        build_encoder("signal", "xresnet1d", depth=7)


def test_patch_transformer_tokens_and_padding() -> None:
    enc = PatchTransformer1d(
        in_channels=2, seq_len=100, patch_size=25, embed_dim=32, depth=1, num_heads=4
    )
    tokens = enc.tokens(torch.randn(3, 2, 100))
    assert tokens.shape == (3, 2 * 4, 32)  # leads x patches tokens
    # a length that is not a multiple of the patch size is padded; other lengths work too
    assert enc.tokens(torch.randn(1, 2, 110)).shape == (1, 2 * 5, 32)
    assert enc(torch.randn(1, 2, 110)).shape == (1, 32)


def test_sincos_2d_layout() -> None:
    pe = sincos_2d(16, 3, 5)
    assert pe.shape == (15, 16)
    grid = pe.reshape(3, 5, 16)
    # first half depends on the lead only, second half on the patch only
    assert torch.allclose(grid[:, 0, :8], grid[:, 4, :8])
    assert torch.allclose(grid[0, :, 8:], grid[2, :, 8:])
    assert not torch.allclose(grid[0, :, :8], grid[1, :, :8])
    with pytest.raises(ClimbError, match="multiple of 4"):
        sincos_2d(18, 2, 2)


def test_ecg_jepa_config_documented() -> None:
    assert ECG_JEPA_CONFIG["embed_dim"] == 768
    assert ECG_JEPA_CONFIG["depth"] == 12
    assert ECG_JEPA_CONFIG["num_heads"] == 16
    assert ECG_JEPA_CONFIG["patch_size"] == 50


def test_hub_weights_offline_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hf_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", "/nonexistent-climb-test-hf-home")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", "/nonexistent-climb-test-hf-home/hub")
    with pytest.raises(ClimbError, match="pretrained weights"):
        build_encoder("image", "resnet18", weights="hf-hub:timm/resnet18.a1_in1k")
    with pytest.raises(ClimbError, match="weights=PATH"):
        build_encoder("image", "resnet18", pretrained=True)
