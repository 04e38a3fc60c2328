"""Unified label spaces and mapping tables, as data.

A label space (``spaces/<key>.yaml``) is an ordered list of classes, each with a definition.
Mapping tables (``maps/<name>.csv``) map native codes of one dataset or coding system to a
label space; every row of a mapping table is tested. Adapters read both through this module.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from climb.core.errors import ClimbError
from climb.core.registry import suggestion

__all__ = [
    "LabelClass",
    "LabelSpace",
    "get_label_space",
    "label_space_keys",
    "load_mapping",
    "mapping_names",
]


@dataclass(frozen=True)
class LabelClass:
    name: str
    definition: str
    display: str = ""


@dataclass(frozen=True)
class LabelSpace:
    key: str
    name: str
    description: str
    multilabel: bool
    classes: tuple[LabelClass, ...]
    references: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ClimbError(
                f"class {name!r} is not in label space {self.key!r}",
                fix=f"classes are: {', '.join(self.names)}",
            ) from None


def _spaces_dir():  # type: ignore[no-untyped-def]
    return resources.files("climb.labels").joinpath("spaces")


def _maps_dir():  # type: ignore[no-untyped-def]
    return resources.files("climb.labels").joinpath("maps")


def label_space_keys() -> list[str]:
    return sorted(
        p.name[: -len(".yaml")] for p in _spaces_dir().iterdir() if p.name.endswith(".yaml")
    )


@cache
def get_label_space(key: str) -> LabelSpace:
    path = _spaces_dir().joinpath(f"{key}.yaml")
    if not path.is_file():
        hint = suggestion(key, label_space_keys())
        raise ClimbError(
            f"unknown label space {key!r}" + (f"; {hint}" if hint else ""),
            fix=f"known label spaces: {', '.join(label_space_keys())}",
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = f"climb/labels/spaces/{key}.yaml"
    missing = {"name", "description", "multilabel", "classes"} - set(data)
    if missing or data.get("key") != key:
        raise ClimbError(
            f"label space file is malformed (missing {sorted(missing)} or wrong key)", where=where
        )
    classes = []
    for item in data["classes"]:
        if not item.get("name") or not item.get("definition"):
            raise ClimbError("every class needs a name and a definition", where=where)
        classes.append(
            LabelClass(item["name"], item["definition"].strip(), item.get("display", ""))
        )
    names = [c.name for c in classes]
    if len(set(names)) != len(names):
        raise ClimbError(f"duplicate class names: {names}", where=where)
    return LabelSpace(
        key=key,
        name=data["name"],
        description=data["description"].strip(),
        multilabel=bool(data["multilabel"]),
        classes=tuple(classes),
        references=tuple(data.get("references", ())),
    )


def mapping_names() -> list[str]:
    if not _maps_dir().is_dir():
        return []
    return sorted(p.name[: -len(".csv")] for p in _maps_dir().iterdir() if p.name.endswith(".csv"))


@cache
def _load_mapping_rows(name: str) -> tuple[dict[str, str], ...]:
    path = _maps_dir().joinpath(f"{name}.csv")
    if not path.is_file():
        raise ClimbError(
            f"unknown mapping table {name!r}",
            fix=f"known mapping tables: {', '.join(mapping_names()) or '(none yet)'}",
        )
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [row for row in csv.DictReader(line for line in fh if not line.startswith("#"))]
    return tuple(rows)


def load_mapping(name: str) -> list[dict[str, str]]:
    """Rows of ``maps/<name>.csv`` (lines starting with '#' are comments), as dicts."""
    return [dict(r) for r in _load_mapping_rows(name)]
