"""Label spaces: every YAML loads and is well-formed; card tasks agree with their label space."""

from __future__ import annotations

import pytest

from climb import registry
from climb.labels import get_label_space, label_space_keys

ECG7 = ("normal", "cd", "mi", "sttc", "other", "afib", "hyp")
CHEXPERT14 = (
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Opacity",
    "Lung Lesion",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
)
REQUIRED_SPACES = {"ecg7", "chexpert14", "derm5", "dr5", "birads"}


def test_required_spaces_exist() -> None:
    assert set(label_space_keys()) >= REQUIRED_SPACES


@pytest.mark.parametrize("key", label_space_keys())
def test_space_is_well_formed(key: str) -> None:
    space = get_label_space(key)
    assert space.key == key
    assert space.name.strip()
    assert space.description.strip()
    assert space.classes, f"{key} has no classes"
    assert len(set(space.names)) == len(space.names), f"{key} has duplicate class names"
    for c in space.classes:
        assert c.name.strip()
        assert c.definition.strip(), f"{key}:{c.name} has no definition"


def test_ecg7_order() -> None:
    space = get_label_space("ecg7")
    assert space.names == ECG7
    assert space.multilabel is True


def test_chexpert14_order() -> None:
    space = get_label_space("chexpert14")
    assert space.names == CHEXPERT14
    assert space.multilabel is True


def test_multiclass_spaces() -> None:
    assert get_label_space("derm5").names == ("MEL", "NV", "BCC", "AKIEC", "OTHER")
    assert len(get_label_space("dr5").names) == 5
    assert len(get_label_space("birads").names) == 7
    for key in ("derm5", "dr5", "birads"):
        assert get_label_space(key).multilabel is False


def _tasks_with_space() -> list[tuple[str, str, str]]:
    out = []
    for card in registry.cards():
        for task in card.tasks:
            if task.label_space is not None:
                out.append((card.key, task.name, task.label_space))
    return out


@pytest.mark.parametrize(("key", "task_name", "space_key"), _tasks_with_space())
def test_task_classes_match_label_space(key: str, task_name: str, space_key: str) -> None:
    assert space_key in label_space_keys(), f"{key}.{task_name}: unknown label space {space_key!r}"
    task = registry.get_card(key).task(task_name)
    space = get_label_space(space_key)
    assert task.classes == space.names, f"{key}.{task_name} classes differ from {space_key}"
    expected_type = "multilabel" if space.multilabel else "multiclass"
    assert task.type == expected_type, f"{key}.{task_name} type differs from {space_key}"
