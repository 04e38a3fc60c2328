"""climb.core.registry: register / get / names, did-you-mean errors, lazy loading."""

from __future__ import annotations

import pytest

from climb.core.errors import ClimbError
from climb.core.registry import Registry, did_you_mean, suggestion


def test_register_get_names_and_decorator() -> None:
    reg: Registry[object] = Registry("widget")

    @reg.register("binary")
    class Binary:
        pass

    sentinel = object()
    assert reg.register("multiclass", sentinel) is sentinel
    assert reg.get("binary") is Binary and reg.get("multiclass") is sentinel
    assert reg.names() == ["binary", "multiclass"] and list(reg) == ["binary", "multiclass"]
    assert "binary" in reg and "regression" not in reg and len(reg) == 2
    assert reg.items() == [("binary", Binary), ("multiclass", sentinel)]


def test_unknown_name_suggests_the_closest_and_lists_the_known() -> None:
    reg: Registry[int] = Registry("task kind")
    for i, name in enumerate(["binary", "multiclass", "multilabel", "regression"]):
        reg.register(name, i)
    with pytest.raises(ClimbError) as e:
        reg.get("multilable")
    assert e.value.what == "unknown task kind 'multilable'; did you mean: multilabel, multiclass?"
    assert e.value.fix == "known task kinds: binary, multiclass, multilabel, regression"
    with pytest.raises(ClimbError) as e:
        reg.get("zzz")
    assert e.value.what == "unknown task kind 'zzz'"  # nothing close: no "did you mean"
    with pytest.raises(ClimbError, match="unknown task kind 3"):
        reg.get(3)  # type: ignore[arg-type]


def test_duplicate_names_are_refused_unless_replace_and_same_object_is_a_no_op() -> None:
    reg: Registry[object] = Registry("encoder")
    a, b = object(), object()
    reg.register("gin", a)
    reg.register("gin", a)  # a module imported twice registers the same object again
    with pytest.raises(ClimbError, match="encoder 'gin' is registered twice"):
        reg.register("gin", b)
    assert reg.get("gin") is a
    reg.register("gin", b, replace=True)
    assert reg.get("gin") is b
    with pytest.raises(ClimbError, match="non-empty string name"):
        reg.register("", a)


def test_loader_runs_once_before_the_first_lookup() -> None:
    calls: list[int] = []
    reg: Registry[str] = Registry(
        "objective", loader=lambda: (calls.append(1), reg.register("sft", "S"))[1]
    )
    assert calls == []  # creating the registry loads nothing
    assert reg.get("sft") == "S"
    assert reg.names() == ["sft"] and "sft" in reg and len(reg) == 1
    assert calls == [1]


def test_did_you_mean_and_suggestion() -> None:
    options = ["ptbxl", "cpsc2018", "georgia", "chapman_shaoxing"]
    assert did_you_mean("ptb-xl", options) == ["ptbxl"]
    assert did_you_mean("cpsc", options, cutoff=0.5) == ["cpsc2018"]
    assert did_you_mean("qqqq", options) == []
    assert suggestion("georgai", options) == "did you mean: georgia?"
    assert suggestion("qqqq", options) == ""
    assert did_you_mean("gin", ["gins_big", "gcn", "gin2"], n=2) == ["gin2", "gcn"]  # best first
