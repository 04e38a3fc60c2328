"""Rewards for classification QA in QoQ-Med's style (facts sheet §8.1).

QoQ-Med scores a response as ``0.5·F1 + 0.3·IoU + 0.1·format + 0.1·length``:

* **F1** (:func:`answer_f1`): set F1 between the conditions inside the last ``\\boxed{...}`` and
  the ground truth, both split on ``", "``, ``" and "``, ``" & "``, ``","`` and ``"&"``
  (compared case-insensitively, whitespace-trimmed).
* **IoU** (:func:`box_iou_reward`): mean over predicted ``bbox_2d`` boxes of the best IoU with a
  ground-truth box, or of the box's IoU with a ground-truth mask.
* **format** (:func:`format_reward`): 0.2 for a fenced code block, +0.1 if it is tagged ``json``,
  +0.2 if it parses as JSON (0.1 if only :func:`ast.literal_eval` parses it), +0.1 if it is a
  list, +0.4 × the fraction of its items with a valid ``bbox_2d`` (4 numbers) and a ``label``.
* **length** (:func:`length_reward`): 1 above 600 characters, else 0.001 per character.

:func:`medical_reward` combines them. climb's choice, documented: when a sample has no
ground-truth box or mask (most classification QA), the IoU term is left out and the other weights
are rescaled to sum to 1, so such samples are not capped at 0.7.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

_SPLIT = re.compile(r", | and | & |,|&")
_FENCE = re.compile(r"```([A-Za-z0-9_-]*)\s*\n?(.*?)```", re.DOTALL)


def boxed_answer(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` in ``text`` (nested braces allowed), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i = start + len("\\boxed{")
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


def split_conditions(answer: str | Sequence[str]) -> set[str]:
    """The set of conditions in an answer string (or a list of them), normalised."""
    parts = [answer] if isinstance(answer, str) else list(answer)
    out: set[str] = set()
    for p in parts:
        for item in _SPLIT.split(str(p)):
            item = item.strip().strip(".").strip().lower()
            if item:
                out.add(item)
    return out


def answer_f1(response: str, ground_truth: str | Sequence[str]) -> float:
    """Set F1 between the ``\\boxed{}`` answer of ``response`` and ``ground_truth`` (0 when the
    response has no boxed answer; 1 when both are empty)."""
    boxed = boxed_answer(response)
    if boxed is None:
        return 0.0
    pred, gold = split_conditions(boxed), split_conditions(ground_truth)
    if not pred and not gold:
        return 1.0
    tp = len(pred & gold)
    if tp == 0:
        return 0.0
    precision, recall = tp / len(pred), tp / len(gold)
    return 2 * precision * recall / (precision + recall)


def _json_block(response: str) -> tuple[str | None, str]:
    m = list(_FENCE.finditer(response))
    if not m:
        return None, ""
    return m[-1].group(2), m[-1].group(1).lower()


def _parse(block: str) -> tuple[Any, float]:
    try:
        return json.loads(block), 0.2
    except (ValueError, TypeError):
        pass
    try:
        return ast.literal_eval(block), 0.1
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None, 0.0


def _valid_box(item: Any) -> bool:
    if not isinstance(item, dict) or "label" not in item:
        return False
    box = item.get("bbox_2d")
    return (
        isinstance(box, list | tuple)
        and len(box) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
    )


def format_reward(response: str) -> float:
    """QoQ-Med's format score in [0, 1] (see the module docstring)."""
    block, tag = _json_block(response)
    if block is None:
        return 0.0
    score = 0.2 + (0.1 if tag == "json" else 0.0)
    obj, parsed = _parse(block)
    score += parsed
    if parsed and isinstance(obj, list):
        score += 0.1
        if obj:
            score += 0.4 * sum(_valid_box(it) for it in obj) / len(obj)
    return min(score, 1.0)


def length_reward(response: str, *, full_at: int = 600) -> float:
    """1 above ``full_at`` characters, else 0.001 per character (QoQ-Med)."""
    n = len(response)
    return 1.0 if n > full_at else 0.001 * n


def predicted_boxes(response: str) -> list[list[float]]:
    """The valid ``bbox_2d`` boxes of the response's JSON block."""
    block, _ = _json_block(response)
    if block is None:
        return []
    obj, parsed = _parse(block)
    if not parsed or not isinstance(obj, list):
        return []
    return [[float(v) for v in it["bbox_2d"]] for it in obj if _valid_box(it)]


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area + area_b - inter
    return inter / union if union > 0 else 0.0


def _mask_iou(box: Sequence[float], mask: np.ndarray) -> float:
    h, w = mask.shape[:2]
    x1, y1 = int(np.clip(np.floor(box[0]), 0, w)), int(np.clip(np.floor(box[1]), 0, h))
    x2, y2 = int(np.clip(np.ceil(box[2]), 0, w)), int(np.clip(np.ceil(box[3]), 0, h))
    region = np.zeros((h, w), dtype=bool)
    region[y1:y2, x1:x2] = True
    m = mask.astype(bool)
    union = int((region | m).sum())
    return int((region & m).sum()) / union if union else 0.0


def box_iou_reward(
    response: str,
    gt_boxes: Sequence[Sequence[float]] | None = None,
    gt_mask: np.ndarray | None = None,
) -> float:
    """Mean IoU of the predicted boxes (``[x1, y1, x2, y2]`` pixels) against the best matching
    ground-truth box, or against ``gt_mask`` (H, W); 0 without a predicted box."""
    boxes = predicted_boxes(response)
    if not boxes:
        return 0.0
    if gt_mask is not None:
        mask = np.asarray(gt_mask)
        return float(np.mean([_mask_iou(b, mask) for b in boxes]))
    if not gt_boxes:
        return 0.0
    return float(np.mean([max(_iou(b, g) for g in gt_boxes) for b in boxes]))


def medical_reward(
    response: str,
    ground_truth: str | Sequence[str],
    *,
    gt_boxes: Sequence[Sequence[float]] | None = None,
    gt_mask: np.ndarray | None = None,
    weights: tuple[float, float, float, float] = (0.5, 0.3, 0.1, 0.1),
) -> float:
    """``w_f1·F1 + w_iou·IoU + w_format·format + w_length·length``; without a ground-truth box or
    mask the IoU term is dropped and the other weights are rescaled to sum to 1."""
    w_f1, w_iou, w_fmt, w_len = weights
    terms = [
        (w_f1, answer_f1(response, ground_truth)),
        (w_fmt, format_reward(response)),
        (w_len, length_reward(response)),
    ]
    if gt_boxes or gt_mask is not None:
        terms.append((w_iou, box_iou_reward(response, gt_boxes, gt_mask)))
    total_w = sum(w for w, _ in terms)
    return float(sum(w * v for w, v in terms) / total_w) if total_w > 0 else 0.0
