"""data.augment: train-only random augmentation applied before the fixed transforms."""

from __future__ import annotations

import pytest
import torch

from climb.core.errors import ClimbError
from climb.data.transforms import REGISTRY, build_transforms


def test_image_transforms_are_registered() -> None:
    assert {"image_augment", "image_normalize"} <= set(REGISTRY)


def test_augment_changes_pixels_but_keeps_shape_and_dtype() -> None:
    torch.manual_seed(0)
    aug = build_transforms([{"name": "image_augment", "policy": "standard"}])
    assert aug is not None
    x = torch.randint(0, 256, (4, 1, 32, 32), dtype=torch.uint8)
    y = aug(x)
    assert y.shape == x.shape and y.dtype == torch.uint8
    assert not torch.equal(x, y)


def test_unknown_augment_is_a_clear_error() -> None:
    with pytest.raises(ClimbError, match="image_augment"):
        build_transforms([{"name": "image_augmnt"}])


def test_split_dataset_applies_augment_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import climb.data
    from climb.experiment import build

    seen: list[str] = []
    captured: dict[str, object] = {}

    class FakeDataset:
        def __init__(self, *a: object, transforms: object = None, **k: object) -> None:
            captured["transforms"] = transforms
            captured["fields"] = k.get("fields")

    monkeypatch.setattr(climb.data, "StoreDataset", FakeDataset)

    def fixed(x: str) -> str:
        seen.append("fixed")
        return x + "+fixed"

    class T:
        store_path = "x"
        fields = ["image"]
        transforms = {"image": fixed}
        entry = type("E", (), {"task": "t"})()
        spec = type("S", (), {"target_field": None, "options": {}})()
        ragged: dict[str, object] = {}
        seed = 0

    build._split_dataset(T, "train", None, augment=lambda x: (seen.append("aug"), x + "+aug")[1])  # type: ignore[arg-type]
    fn = captured["transforms"]["image"]  # type: ignore[index]
    assert callable(fn) and fn("x") == "x+aug+fixed" and seen == ["aug", "fixed"]
    build._split_dataset(T, "val", None)  # type: ignore[arg-type]
    assert captured["transforms"] is T.transforms and captured["fields"] == ["image"]
