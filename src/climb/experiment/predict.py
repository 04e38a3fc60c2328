"""Run a model over one role of a task: what the task kind collects per batch, and the loss."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from climb.experiment.build import ClimbModel, TaskData


def amp_settings(mode: str, device: torch.device) -> tuple[bool, torch.dtype]:
    """(enabled, dtype) of autocast: ``auto`` = bf16/fp16 on CUDA only."""
    on = mode == "on" or (mode == "auto" and device.type == "cuda")
    if not on or device.type != "cuda":
        return False, torch.float32
    return True, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def move(batch: Any, device: torch.device) -> Any:
    """Tensors (and torch_geometric batches) of a nested batch onto ``device``."""
    nb = device.type == "cuda"
    if isinstance(batch, dict):
        return {k: move(v, device) for k, v in batch.items()}
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=nb)
    if hasattr(batch, "to") and hasattr(batch, "edge_index"):
        return batch.to(device)
    return batch


@torch.no_grad()
def predict(
    model: ClimbModel,
    t: TaskData,
    role: str,
    device: torch.device,
    batch_size: int,
    amp: tuple[bool, torch.dtype] = (False, torch.float32),
    max_batches: int | None = None,
    forward: Callable[..., Any] | None = None,
) -> tuple[dict[str, np.ndarray], float]:
    """(collected arrays in data order, mean loss) over ``role`` of ``t``."""
    was_training = model.training
    model.eval()
    fwd = forward or model
    parts: list[dict[str, np.ndarray]] = []
    losses, ns = [], []
    for i, batch in enumerate(t.batches(role, batch_size)):
        if max_batches is not None and i >= max_batches:
            break
        batch = move(batch, device)
        y = t.kind.target(batch, t.spec)
        with torch.autocast(device.type, dtype=amp[1], enabled=amp[0]):
            out = fwd(
                batch["inputs"],
                t.head_key,
                batch.get("present"),
                batch.get("masks"),
                batch.get("clip_index"),
            )
        out = out.float()
        losses.append(float(t.kind.loss(out, y, spec=t.spec)))
        part = t.kind.collect(out, y)
        if "row" in part:  # per-frame kinds: the sample (position in the role) of each row
            part["row"] = part["row"] + sum(ns)
        ns.append(len(y))
        parts.append(part)
    if was_training:
        model.train()
    if not parts:
        return {"y": np.zeros(0), "out": np.zeros(0)}, math.nan
    loss = float(np.average(losses, weights=ns))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}, loss
