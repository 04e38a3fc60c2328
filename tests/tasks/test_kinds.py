"""Heads, masked losses (checked against manual computations) and score conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from climb.core.errors import ClimbError
from climb.models import build_head, num_logits
from climb.tasks import get_kind


def task_loss(
    task_type: str, logits: torch.Tensor, target: torch.Tensor, **kw: object
) -> torch.Tensor:
    return get_kind(task_type).loss(logits, target, **kw)  # type: ignore[arg-type]


def predict_scores(task_type: str, logits: object) -> np.ndarray:
    return get_kind(task_type).scores(logits)  # type: ignore[arg-type]


torch.set_num_threads(1)


@pytest.mark.parametrize(
    ("task_type", "num_outputs", "expected"),
    [
        ("binary", 2, 1),
        ("binary", 1, 1),
        ("multiclass", 5, 5),
        ("multilabel", 7, 7),
        ("regression", 1, 1),
    ],
)
def test_head_shapes(task_type: str, num_outputs: int, expected: int) -> None:
    head = build_head(task_type, 16, num_outputs, hidden=8, dropout=0.1)
    assert head(torch.randn(4, 16)).shape == (4, expected)
    assert num_logits(task_type, num_outputs) == expected


def test_head_errors() -> None:
    with pytest.raises(ClimbError, match="1 or 2 classes"):
        build_head("binary", 8, 3)
    with pytest.raises(ClimbError, match="unknown task type"):
        build_head("ranking", 8, 3)


def test_multiclass_masking_matches_manual() -> None:
    logits = torch.randn(6, 4, requires_grad=True)
    target = torch.tensor([0, -1, 3, 2, -1, 1])
    keep = target >= 0
    expected = F.cross_entropy(logits[keep], target[keep])
    assert torch.allclose(task_loss("multiclass", logits, target), expected)
    w = torch.tensor([1.0, 2.0, 0.5, 3.0])
    expected_w = F.cross_entropy(logits[keep], target[keep], weight=w)
    assert torch.allclose(task_loss("multiclass", logits, target, class_weights=w), expected_w)
    # the masked rows get exactly zero gradient
    task_loss("multiclass", logits, target).backward()
    assert torch.all(logits.grad[~keep] == 0) and torch.any(logits.grad[keep] != 0)


def test_multilabel_masking_matches_manual() -> None:
    logits = torch.randn(5, 3, requires_grad=True)
    target = torch.tensor([[1, 0, -1], [-1, -1, -1], [0, 1, 1], [1, -1, 0], [0, 0, 1]]).float()
    pos_weight = torch.tensor([2.0, 1.0, 0.5])
    valid = target >= 0
    manual = []
    for i, j in zip(*torch.nonzero(valid, as_tuple=True), strict=True):
        z, y = logits[i, j], target[i, j]
        manual.append(-(pos_weight[j] * y * F.logsigmoid(z) + (1 - y) * F.logsigmoid(-z)))
    expected = torch.stack(manual).mean()
    got = task_loss("multilabel", logits, target, class_weights=pos_weight)
    assert torch.allclose(got, expected, atol=1e-6)
    got.backward()
    assert torch.all(logits.grad[~valid] == 0)
    # NaN also means missing
    nan_target = torch.where(valid, target, torch.tensor(float("nan")))
    assert torch.allclose(
        task_loss("multilabel", logits, nan_target, class_weights=pos_weight), expected, atol=1e-6
    )


def test_binary_one_logit_and_two_logits() -> None:
    logits = torch.randn(5, 1)
    target = torch.tensor([1, 0, -1, 1, 0])
    keep = target >= 0
    expected = F.binary_cross_entropy_with_logits(logits[keep, 0], target[keep].float())
    assert torch.allclose(task_loss("binary", logits, target), expected)
    pw = F.binary_cross_entropy_with_logits(
        logits[keep, 0], target[keep].float(), pos_weight=torch.tensor([3.0])
    )
    assert torch.allclose(task_loss("binary", logits, target, class_weights=[3.0]), pw)
    two = torch.randn(5, 2)
    assert torch.allclose(
        task_loss("binary", two, target), F.cross_entropy(two[keep], target[keep])
    )
    scores = predict_scores("binary", logits)
    assert scores.shape == (5,)
    assert np.allclose(scores, torch.sigmoid(logits[:, 0]).numpy())
    assert np.allclose(predict_scores("binary", two), torch.softmax(two, 1)[:, 1].numpy())


def test_regression_nan_masking() -> None:
    out = torch.randn(4, 2, requires_grad=True)
    target = torch.tensor([[1.0, float("nan")], [0.5, 2.0], [float("nan"), float("nan")], [0, 1]])
    valid = ~torch.isnan(target)
    expected = ((out[valid] - target[valid]) ** 2).mean()
    assert torch.allclose(task_loss("regression", out, target), expected)
    one = torch.randn(3, 1)
    t1 = torch.tensor([1.0, float("nan"), 2.0])
    assert torch.allclose(
        task_loss("regression", one, t1), ((one[[0, 2], 0] - t1[[0, 2]]) ** 2).mean()
    )
    assert predict_scores("regression", one).shape == (3,)


@pytest.mark.parametrize(
    ("task_type", "logits", "target"),
    [
        ("multiclass", torch.randn(3, 4), torch.full((3,), -1)),
        ("binary", torch.randn(3, 1), torch.full((3,), -1)),
        ("multilabel", torch.randn(3, 2), torch.full((3, 2), -1.0)),
        ("regression", torch.randn(3, 1), torch.full((3,), float("nan"))),
    ],
)
def test_all_missing_gives_zero_with_grad(
    task_type: str, logits: torch.Tensor, target: torch.Tensor
) -> None:
    logits = logits.clone().requires_grad_(True)
    loss = task_loss(task_type, logits, target)
    assert loss.detach().item() == 0.0
    loss.backward()
    assert logits.grad is not None and torch.all(logits.grad == 0)


def test_predict_scores() -> None:
    logits = torch.randn(4, 3)
    p = predict_scores("multiclass", logits)
    assert np.allclose(p.sum(1), 1) and p.dtype == np.float64
    q = predict_scores("multilabel", logits)
    assert np.allclose(q, torch.sigmoid(logits).numpy())
    assert np.allclose(predict_scores("regression", logits), logits.numpy())


def test_soft_kl_is_kl_to_the_vote_distribution() -> None:
    from climb.tasks.classification import soft_kl

    torch.manual_seed(0)
    logits = torch.randn(4, 3, requires_grad=True)
    p = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [-1.0, -1.0, -1.0], [0.2, 0.3, 0.5]])
    loss = task_loss("multiclass", logits, p)
    q = torch.softmax(logits.detach(), 1)
    rows = [0, 1, 3]
    want = sum(
        sum(float(p[i, c]) * (np.log(float(p[i, c])) - np.log(float(q[i, c])))
            for c in range(3) if p[i, c] > 0)
        for i in rows
    ) / len(rows)  # fmt: skip
    assert float(loss.detach()) == pytest.approx(want, rel=1e-5)
    loss.backward()
    assert logits.grad is not None and float(logits.grad[2].abs().sum()) == 0  # ignored row
    # a one-hot distribution gives the hard cross-entropy
    onehot = F.one_hot(torch.tensor([2, 0, 1, 1]), 3).float()
    hard = task_loss("multiclass", logits.detach(), torch.tensor([2, 0, 1, 1]))
    assert float(soft_kl(logits.detach(), onehot)) == pytest.approx(float(hard), rel=1e-5)
    assert float(soft_kl(logits, -torch.ones(4, 3))) == 0.0
    with pytest.raises(ClimbError, match="do not fit"):
        soft_kl(logits, torch.ones(4, 2) / 2)
