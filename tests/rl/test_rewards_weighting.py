"""QoQ-Med-style rewards for classification QA and DRPO-style task weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

from climb.core.errors import ClimbError
from climb.rl import answer_f1, domain_task_weights, format_reward, length_reward, medical_reward
from climb.rl.rewards import box_iou_reward, boxed_answer, split_conditions

GOOD = (
    "<think>looks like fluid</think>\n```json\n"
    '[{"bbox_2d": [0, 0, 10, 10], "label": "effusion"}]\n```\n'
    "The answer is \\boxed{Pleural Effusion, Cardiomegaly}."
)


def test_boxed_and_f1() -> None:
    assert boxed_answer("a \\boxed{x} then \\boxed{y {z}}") == "y {z}"
    assert boxed_answer("no box") is None
    assert split_conditions("A, b and C & d,e&f") == {"a", "b", "c", "d", "e", "f"}
    assert answer_f1(GOOD, "cardiomegaly, pleural effusion") == 1.0
    # predicted {effusion, cardiomegaly} vs gold {effusion}: P = 1/2, R = 1 -> F1 = 2/3
    assert math.isclose(answer_f1(GOOD, ["Pleural Effusion"]), 2 / 3)
    assert answer_f1("\\boxed{edema}", "effusion") == 0.0
    assert answer_f1("edema", "edema") == 0.0  # no boxed answer


def test_format_and_length() -> None:
    assert math.isclose(format_reward(GOOD), 1.0)
    assert format_reward("plain text") == 0.0
    assert math.isclose(format_reward("```\n{'a': 1}\n```"), 0.2 + 0.1)  # literal_eval only
    assert math.isclose(format_reward('```json\n[{"bbox_2d": [1, 2], "label": "x"}, 1]\n```'), 0.6)
    assert math.isclose(length_reward("x" * 100), 0.1) and length_reward("x" * 601) == 1.0


def test_iou_and_combined() -> None:
    assert math.isclose(box_iou_reward(GOOD, gt_boxes=[[0, 0, 10, 20]]), 0.5)
    mask = np.zeros((20, 20), bool)
    mask[0:10, 0:5] = True
    assert math.isclose(box_iou_reward(GOOD, gt_mask=mask), 0.5)
    with_box = medical_reward(GOOD, "pleural effusion, cardiomegaly", gt_boxes=[[0, 0, 10, 20]])
    n = len(GOOD)
    assert math.isclose(with_box, 0.5 + 0.3 * 0.5 + 0.1 + 0.1 * 0.001 * n)
    no_box = medical_reward(GOOD, "pleural effusion, cardiomegaly")
    assert math.isclose(no_box, (0.5 + 0.1 + 0.1 * 0.001 * n) / 0.7)


def test_task_weights() -> None:
    sizes = {"big": 10000, "small": 100}
    assert domain_task_weights(sizes, scheme="uniform") == {"big": 1.0, "small": 1.0}
    w = domain_task_weights(sizes, scheme="size")
    assert math.isclose(w["big"] / w["small"], 100) and math.isclose(sum(w.values()), 2)
    w = domain_task_weights(sizes, {"big": 0.1, "small": 0.1})
    assert math.isclose(w["small"] / w["big"], 10)  # sqrt(100)
    w = domain_task_weights([100, 100], [0.2, 0.6])
    assert math.isclose(w[1] / w[0], 0.8 / 0.4)  # harder task weighs more
    w = domain_task_weights([1, 1], [0.0, 1.0])  # difficulty 1: clamped, finite
    assert all(math.isfinite(x) for x in w)
    with pytest.raises(ClimbError, match="no training samples"):
        domain_task_weights({"a": 0, "b": 3}, scheme="uniform")
    with pytest.raises(ClimbError, match="outside"):
        domain_task_weights([1, 2], [0.5, 1.5])
    with pytest.raises(ClimbError, match="needs a difficulty"):
        domain_task_weights([1, 2])
    with pytest.raises(ClimbError, match="is nan"):
        domain_task_weights([1, float("nan")], scheme="uniform")
    with pytest.raises(ClimbError, match="same tasks"):
        domain_task_weights({"a": 1}, {"b": 0.5})
