"""load_encoder_weights: round trips through files, checkpoint layouts, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import timm
import torch

from climb.core.errors import ClimbError
from climb.models import build_encoder, load_encoder_weights

torch.set_num_threads(1)


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _enc(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_encoder(
        "signal",
        "patch_transformer",
        in_channels=2,
        seq_len=64,
        patch_size=16,
        embed_dim=16,
        depth=1,
        num_heads=2,
    )


@pytest.mark.parametrize("layout", ["plain", "encoder", "model", "state_dict", "ddp"])
def test_round_trip(tmp_path: Path, layout: str) -> None:
    src, dst = _enc(0), _enc(1)
    assert not _same(src, dst)
    state = src.state_dict()
    obj: object = {
        "plain": state,
        "encoder": {"encoder": state, "epoch": 3, "head": {"w": torch.zeros(1)}},
        "model": {"model": state, "step": 10},
        "state_dict": {"state_dict": state, "config": {"lr": 0.1}},
        "ddp": {f"module.{k}": v for k, v in state.items()},
    }[layout]
    path = tmp_path / "w.pt"
    torch.save(obj, path)
    report = load_encoder_weights(dst, path, strict=True)
    assert report["missing"] == [] and report["unexpected"] == []
    assert len(report["loaded"]) == len(state)
    assert _same(src, dst)
    x = torch.randn(2, 2, 64)
    src.eval(), dst.eval()
    assert torch.allclose(src(x), dst(x))


def test_prefix_selects_encoder_of_whole_model(tmp_path: Path) -> None:
    src, dst = _enc(0), _enc(1)
    whole = {f"encoder.{k}": v for k, v in src.state_dict().items()}
    whole["head.weight"] = torch.zeros(3, 16)
    torch.save(whole, tmp_path / "m.pt")
    report = load_encoder_weights(dst, tmp_path / "m.pt", prefix="encoder.")
    assert report["unexpected"] == []
    assert _same(src, dst)
    with pytest.raises(ClimbError, match="starts with prefix"):
        load_encoder_weights(dst, tmp_path / "m.pt", prefix="backbone.")


def test_non_strict_reports_missing_and_unexpected(tmp_path: Path) -> None:
    src, dst = _enc(0), _enc(1)
    state = src.state_dict()
    dropped = next(iter(state))
    del state[dropped]
    state["extra.weight"] = torch.zeros(2)
    torch.save(state, tmp_path / "w.pt")
    report = load_encoder_weights(dst, tmp_path / "w.pt")
    assert report["missing"] == [dropped]
    assert report["unexpected"] == ["extra.weight"]
    with pytest.raises(ClimbError, match="do not match exactly"):
        load_encoder_weights(dst, tmp_path / "w.pt", strict=True)


def test_errors(tmp_path: Path) -> None:
    dst = _enc(0)
    with pytest.raises(ClimbError, match="not found"):
        load_encoder_weights(dst, tmp_path / "missing.pt")
    other = build_encoder(
        "signal",
        "patch_transformer",
        in_channels=2,
        seq_len=64,
        patch_size=8,
        embed_dim=16,
        depth=1,
        num_heads=2,
    )
    torch.save(other.state_dict(), tmp_path / "other.pt")
    with pytest.raises(ClimbError, match="do not fit the model's shapes"):
        load_encoder_weights(dst, tmp_path / "other.pt")
    torch.save({"a.b": torch.zeros(1)}, tmp_path / "unrelated.pt")
    with pytest.raises(ClimbError, match="no weight"):
        load_encoder_weights(dst, tmp_path / "unrelated.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ClimbError, match="could not read"):
        load_encoder_weights(dst, tmp_path / "junk.pt")


def test_image_weights_from_local_timm_file_adapted_to_one_channel(tmp_path: Path) -> None:
    torch.manual_seed(0)
    rgb = timm.create_model("resnet18", pretrained=False, num_classes=5)  # with a classifier
    torch.save(rgb.state_dict(), tmp_path / "resnet18.pth")
    enc = build_encoder("image", "resnet18", in_chans=1, weights=tmp_path / "resnet18.pth")
    report = enc.load_report
    assert report is not None and report["missing"] == []
    assert report["unexpected"] == ["model.fc.bias", "model.fc.weight"]
    # the RGB stem was summed into one channel, the rest copied as is
    assert torch.allclose(enc.model.conv1.weight, rgb.conv1.weight.sum(dim=1, keepdim=True))
    assert torch.equal(enc.model.layer4[1].conv2.weight, rgb.layer4[1].conv2.weight)
    # a climb checkpoint of the wrapper loads back too
    torch.save({"encoder": enc.state_dict()}, tmp_path / "climb.pt")
    again = build_encoder("image", "resnet18", in_chans=1, weights=str(tmp_path / "climb.pt"))
    assert again.load_report["unexpected"] == []
    assert torch.equal(again.model.conv1.weight, enc.model.conv1.weight)


def test_build_encoder_with_weights_file(tmp_path: Path) -> None:
    src = _enc(0)
    torch.save({"encoder": src.state_dict()}, tmp_path / "enc.pt")
    built = build_encoder(
        "signal",
        "patch_transformer",
        in_channels=2,
        seq_len=64,
        patch_size=16,
        embed_dim=16,
        depth=1,
        num_heads=2,
        weights=tmp_path / "enc.pt",
    )
    assert _same(src, built)
    assert built.load_report["missing"] == []
    with pytest.raises(ClimbError, match="not found"):
        build_encoder("signal", "xresnet1d", in_channels=2, weights=tmp_path / "nope.pt")
