"""climb.models: encoders by modality (a registry), fusion modules, task heads, weight loading.

    from climb.models import build_encoder, build_head
    from climb.tasks import get_kind
    enc = build_encoder("signal", "xresnet1d", in_channels=12, seq_len=5000)
    head = build_head("multilabel", enc.out_dim, 7)
    loss = get_kind("multilabel").loss(head(enc(x)), y)   # y: (B, 7), -1 = missing

See docs/models.md.
"""

from __future__ import annotations

from climb.models._registry import (
    build_encoder,
    default_encoder,
    input_kwargs,
    list_encoders,
    register_encoder,
    register_input_kwargs,
)
from climb.models.heads import TASK_TYPES, Head, build_head, num_logits
from climb.models.weights import load_encoder_weights, read_state_dict

__all__ = [
    "TASK_TYPES",
    "Head",
    "build_encoder",
    "build_head",
    "default_encoder",
    "input_kwargs",
    "list_encoders",
    "load_encoder_weights",
    "num_logits",
    "read_state_dict",
    "register_encoder",
    "register_input_kwargs",
]
