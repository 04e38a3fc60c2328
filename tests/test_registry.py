from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

from climb import registry
from climb.core.errors import ClimbError, UnknownDatasetError
from climb.registry import Dataset, register_dataset
from tests.test_card import make


def test_unknown_key_suggests_closest_keys() -> None:
    with pytest.raises(UnknownDatasetError) as info:
        registry.get("ptb_xl")
    assert "ptbxl" in str(info.value)
    assert "climb datasets list" in str(info.value)


def test_unknown_key_without_close_match() -> None:
    with pytest.raises(UnknownDatasetError, match="none is close"):
        registry.get("zzzzzzzzzz")


def test_duplicate_key_is_refused() -> None:
    class A(Dataset):
        card = make(key="dup_probe")

    class B(Dataset):
        card = make(key="dup_probe")

    register_dataset(A)
    try:
        with pytest.raises(ClimbError, match="registered twice"):
            register_dataset(B)
    finally:
        registry._REGISTRY.pop("dup_probe", None)


def test_register_requires_a_card() -> None:
    class NoCard(Dataset):
        pass

    with pytest.raises(ClimbError, match="no 'card'"):
        register_dataset(NoCard)


def test_filters_validate_their_values() -> None:
    with pytest.raises(ClimbError, match="unknown domain"):
        registry.cards(domain="cardio")
    with pytest.raises(ClimbError, match="unknown access"):
        registry.cards(access="free")
    assert all(c.domain == "ecg" for c in registry.cards(domain="ecg"))


def test_plugins_register_through_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    class Plugin(Dataset):
        card = make(key="plugin_probe")

    sys.modules["climb_plugin_probe"] = type(sys)("climb_plugin_probe")
    sys.modules["climb_plugin_probe"].Plugin = Plugin  # type: ignore[attr-defined]
    eps = [
        EntryPoint("plugin_probe", "climb_plugin_probe:Plugin", registry.ENTRY_POINT_GROUP),
        EntryPoint("broken", "climb_no_such_module:X", registry.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    monkeypatch.setattr(registry, "_PLUGIN_ERRORS", [])
    try:
        registry._import_plugins()
        assert registry.get_card("plugin_probe").key == "plugin_probe"
        assert any("broken" in e for e in registry._PLUGIN_ERRORS)
    finally:
        registry._REGISTRY.pop("plugin_probe", None)
        del sys.modules["climb_plugin_probe"]


def test_catalog_import_stays_light() -> None:
    """Loading every card must not import heavy libraries (the CLI imports the catalog)."""
    code = (
        "import sys; from climb import registry; registry.load_all(); "
        "heavy = [m for m in ('torch', 'wfdb', 'pydicom', 'zarr', 'timm', 'scipy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
