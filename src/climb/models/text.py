"""Text encoder through Hugging Face ``transformers``, from a local path only (nothing is
downloaded): CLIMB encodes the EHR text rendering with ClinicalBERT's CLS token (frozen).

``build_encoder("text", "bert", path=DIR)`` loads ``AutoModel`` (and ``AutoTokenizer`` when the
folder has one) from ``DIR`` with ``local_files_only=True``; ``config={...}`` instead builds a
randomly initialised BERT from a config dict (tests). Input: a ``(B, L)`` tensor of token ids
(``pad_token_id`` = padding), or a list of ``B`` strings when a tokenizer is loaded (truncated to
``max_length``, 512 as CLIMB). Output: ``(B, hidden_size)``, the CLS token (``pooling="cls"``)
or the mean over non-padding tokens (``"mean"``). ``freeze=True`` (CLIMB's setting) keeps the
weights fixed and runs without gradients; attention is per sequence, so one sample's text never
affects another's features.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.models._registry import register_encoder


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise ClimbError(
            "the text encoder needs transformers",
            where="climb.models.text",
            fix="pip install transformers",
        ) from exc
    return transformers


class TextEncoder(nn.Module):
    def __init__(
        self,
        path: str | None = None,
        config: dict[str, Any] | None = None,
        pooling: str = "cls",
        freeze: bool = True,
        max_length: int = 512,
    ) -> None:
        super().__init__()
        tf = _transformers()
        if pooling not in ("cls", "mean"):
            raise ClimbError(f"unknown pooling {pooling!r}", fix="use 'cls' or 'mean'")
        self.tokenizer = None
        if path:
            p = Path(path).expanduser()
            if not p.is_dir():
                raise ClimbError(
                    f"text model folder {p} does not exist",
                    where="climb.models.text",
                    fix="save a model there first (model.save_pretrained / "
                    "huggingface-cli download on a machine with network), or pass config=",
                )
            try:
                self.model = tf.AutoModel.from_pretrained(str(p), local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ClimbError(
                    f"cannot load a transformers model from {p}: {exc}",
                    where="climb.models.text",
                    fix="the folder needs config.json and the weights (safetensors/bin)",
                ) from None
            if (p / "tokenizer_config.json").is_file() or (p / "vocab.txt").is_file():
                self.tokenizer = tf.AutoTokenizer.from_pretrained(str(p), local_files_only=True)
        elif config is not None:
            self.model = tf.BertModel(tf.BertConfig(**config), add_pooling_layer=False)
        else:
            raise ClimbError(
                "the text encoder needs path= (a local model folder) or config=",
                where="climb.models.text",
                fix="e.g. path=~/models/ClinicalBERT (saved with save_pretrained)",
            )
        self.pooling = pooling
        self.freeze = bool(freeze)
        self.max_length = int(max_length)
        self.pad_id = int(getattr(self.model.config, "pad_token_id", 0) or 0)
        self.out_dim = int(self.model.config.hidden_size)
        if self.freeze:
            for prm in self.model.parameters():
                prm.requires_grad_(False)

    def _ids(self, x: Tensor | list[str]) -> tuple[Tensor, Tensor]:
        if isinstance(x, Tensor):
            ids = x.long()
            return ids, (ids != self.pad_id).long()
        if self.tokenizer is None:
            raise ClimbError(
                "text input as strings needs a tokenizer in the model folder",
                where="TextEncoder.forward",
                fix="save the tokenizer beside the model, or pass token ids",
            )
        enc = self.tokenizer(
            list(x), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        dev = next(self.model.parameters()).device
        return enc["input_ids"].to(dev), enc["attention_mask"].to(dev)

    def forward(self, x: Tensor | list[str]) -> Tensor:
        ids, mask = self._ids(x)
        if self.freeze:
            self.model.eval()
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            h = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
        if self.pooling == "cls":
            return h[:, 0]
        m = mask.unsqueeze(-1).to(h.dtype)
        return (h * m).sum(1) / m.sum(1).clamp_min(1.0)


@register_encoder("text", "bert", default=True)
def bert(**kwargs: Any) -> TextEncoder:
    """A BERT-family encoder from a local folder (``path=``) or a config dict (``config=``)."""
    return TextEncoder(**kwargs)
