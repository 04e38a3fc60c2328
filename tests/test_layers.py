"""The layer rules (pyproject.toml [tool.importlinter], docs/development.md "Layout") hold.

`make lint` runs `lint-imports` too; this test makes `make test` fail on a violation as well.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]

pytest.importorskip(
    "importlinter", reason="import-linter is a test dependency (pip install -e .[test])"
)


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_import_contracts_are_kept() -> None:
    r = _lint(ROOT / "pyproject.toml")
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "BROKEN" not in r.stdout and "KEPT" in r.stdout


def test_a_broken_contract_is_reported(tmp_path: Path) -> None:
    """The check can fail: a contract the code does not keep (store imports core) is BROKEN."""
    cfg = tmp_path / "contracts.toml"
    cfg.write_text(
        '[tool.importlinter]\nroot_package = "climb"\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "store without core (false on purpose)"\n'
        'type = "forbidden"\n'
        'source_modules = ["climb.store"]\n'
        'forbidden_modules = ["climb.core"]\n',
        encoding="utf-8",
    )
    r = _lint(cfg)
    assert r.returncode != 0 and "BROKEN" in r.stdout, r.stdout + r.stderr
    assert "climb.store" in r.stdout and "-> climb.core" in r.stdout


def _layer_modules(optional: bool = True) -> set[str]:
    """Modules named in the layers contract ("(name)": an optional layer)."""
    (layers,) = [c for c in CONFIG["contracts"] if c["type"] == "layers"]
    out: set[str] = set()
    for layer in layers["layers"]:
        for m in layer.replace("|", ":").split(":"):
            m = m.strip()
            if m.startswith("("):
                if not optional:
                    continue
                m = m.strip("()")
            out.add(m)
    return out


def test_every_package_has_a_place_in_the_layers() -> None:
    """A new top-level package or module of climb must be placed in the layers contract."""
    src = ROOT / "src" / "climb"
    found = {
        f"climb.{p.stem if p.is_file() else p.name}"
        for p in src.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file())
        or (p.is_file() and p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
    }
    missing = sorted(found - _layer_modules())
    assert not missing, f"add {missing} to the layers contract in pyproject.toml (and docs)"
    gone = sorted(_layer_modules(optional=False) - found)
    assert not gone, f"the layers contract names modules that do not exist: {gone}"
