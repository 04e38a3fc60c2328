"""EEG encoders (braindecode EEGNet, EEGConformer, BIOT) in the models registry."""

from __future__ import annotations

import pytest
import torch

from climb.core.errors import ClimbError
from climb.models import build_encoder, list_encoders
from climb.models.eeg import BRAINDECODE_MODELS, braindecode_class


def test_registered_under_signal() -> None:
    names = {n for m, n in list_encoders("signal")}
    assert {"eegnet", "eegconformer", "biot", "xresnet1d"} <= names


@pytest.mark.parametrize("name", sorted(BRAINDECODE_MODELS))
def test_braindecode_encoder_features_and_gradients(name: str) -> None:
    cls = braindecode_class(name)
    assert cls.__module__.startswith("braindecode.models.")  # braindecode's own code
    kwargs = {"embed_dim": 64, "num_layers": 1, "num_heads": 2} if name == "biot" else {}
    torch.manual_seed(0)
    enc = build_encoder("signal", name, in_channels=16, seq_len=1000, **kwargs)
    x = torch.randn(3, 16, 1000)
    y = enc(x)
    assert y.shape == (3, enc.out_dim) and torch.isfinite(y).all()
    if name == "biot":
        assert enc.out_dim == 64  # the transformer embedding, not the 2 logits
    y.pow(2).mean().backward()
    grads = [p.grad for p in enc.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads[:3])
    # depends on the input (not a constant): two different inputs, two different features
    enc.eval()
    with torch.no_grad():
        assert not torch.allclose(enc(x[:1]), enc(x[1:2]))
    with pytest.raises(ClimbError, match=f"{name} expects \\(batch, 16, time\\)"):
        enc(torch.randn(2, 19, 1000))


def test_other_montage_shape_and_bad_options() -> None:
    enc = build_encoder("signal", "eegnet", in_channels=19, seq_len=2000)
    assert enc(torch.randn(2, 19, 2000)).shape == (2, enc.out_dim)
    with pytest.raises(ClimbError, match="bad options for signal encoder 'eegnet'"):
        build_encoder("signal", "eegnet", in_channels=16, seq_len=1000, no_such_option=3)
