"""Tabular MLP and the local-path text encoder (a tiny random BERT, nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from climb.core.errors import ClimbError
from climb.models import build_encoder, default_encoder
from climb.models._registry import input_kwargs

torch.set_num_threads(1)

TINY = {
    "vocab_size": 64,
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "max_position_embeddings": 64,
}


def test_mlp_shapes_flatten_and_errors() -> None:
    assert default_encoder("tabular") == "mlp" and default_encoder("table") == "mlp"
    assert input_kwargs("tabular", (14,), {}) == {"in_features": 14}
    assert input_kwargs("table", (3, 4), {}) == {"in_features": 12}
    enc = build_encoder("tabular", in_features=12, hidden=8, depth=3).eval()
    assert enc.out_dim == 8
    assert enc(torch.randn(5, 3, 4)).shape == (5, 8)
    with pytest.raises(ClimbError, match="expects 12 features"):
        enc(torch.randn(5, 13))
    with pytest.raises(ClimbError, match="non-finite"):
        enc(torch.full((2, 12), float("nan")))


def test_mlp_is_per_sample() -> None:
    torch.manual_seed(0)
    enc = build_encoder("table", in_features=6, hidden=8).eval()
    x = torch.randn(4, 6)
    ref = enc(x)
    x2 = x.clone()
    x2[2] = 100.0
    out = enc(x2)
    torch.testing.assert_close(out[[0, 1, 3]], ref[[0, 1, 3]])
    assert not torch.allclose(out[2], ref[2])


def _save_tiny_bert(path: Path) -> None:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(0)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "patient", "age", "lactate", "|", ":"]
    words += [str(i) for i in range(10)] + ["creatinine", "heart", "rate", "mg", "/", "dl", "."]
    path.mkdir(parents=True)
    (path / "vocab.txt").write_text("\n".join(words) + "\n")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(str(path))
    BertModel(BertConfig(**{**TINY, "vocab_size": len(words)})).save_pretrained(str(path))


def test_text_encoder_from_local_folder(tmp_path: Path) -> None:
    _save_tiny_bert(tmp_path / "bert")
    enc = build_encoder("text", "bert", path=str(tmp_path / "bert"))
    texts = ["patient age 7 | lactate : 2 . 1", "heart rate 9"]
    out = enc(texts)
    assert out.shape == (2, 16) and enc.out_dim == 16
    # frozen (CLIMB's setting): no trainable weights, no graph
    assert not any(p.requires_grad for p in enc.parameters()) and not out.requires_grad
    # one text alone equals its row in a padded batch: no information across samples
    alone = enc([texts[1]])
    torch.testing.assert_close(alone[0], out[1], rtol=1e-4, atol=1e-5)
    other = enc([texts[0], "creatinine 3 mg / dl"])
    torch.testing.assert_close(other[0], out[0], rtol=1e-4, atol=1e-5)
    mean = build_encoder("text", path=str(tmp_path / "bert"), pooling="mean", freeze=False)
    m = mean(texts)
    m.sum().backward()
    assert any(p.grad is not None for p in mean.parameters())


def test_text_encoder_errors(tmp_path: Path) -> None:
    with pytest.raises(ClimbError, match="does not exist"):
        build_encoder("text", path=str(tmp_path / "nothing"))
    with pytest.raises(ClimbError, match="needs path="):
        build_encoder("text")
    enc = build_encoder("text", config=TINY)
    with pytest.raises(ClimbError, match="needs a tokenizer"):
        enc(["no tokenizer here"])
    assert enc(torch.randint(1, 64, (3, 7))).shape == (3, 16)
