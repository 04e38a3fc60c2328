"""Every row of the imaging mapping tables is checked against the label spaces and the cards."""

from __future__ import annotations

import pytest

from climb import registry
from climb.labels import get_label_space, load_mapping

IMAGING_TABLES = (
    "imaging_native",
    "chexpert14_columns",
    "chexpert14_vindr_cxr",
    "derm5",
    "dr5",
    "birads",
)


def _task_classes(dataset: str, task: str) -> tuple[str, ...]:
    card = registry.get_card(dataset)
    return next(t.classes for t in card.tasks if t.name == task)


@pytest.mark.parametrize(
    "row", load_mapping("imaging_native"), ids=lambda r: f"{r['dataset']}/{r['native']}"
)
def test_native_rows(row: dict[str, str]) -> None:
    if row["class"]:
        assert row["class"] in _task_classes(row["dataset"], row["task"])
    else:
        assert row["note"], "an excluded native value must say why"


@pytest.mark.parametrize(
    "row", load_mapping("chexpert14_columns"), ids=lambda r: f"{r['dataset']}/{r['column']}"
)
def test_chexpert_column_rows(row: dict[str, str]) -> None:
    assert row["chexpert14"] in get_label_space("chexpert14").names
    assert row["column"] == row["chexpert14"]  # both sources use the CheXpert names verbatim


def test_chexpert_columns_complete() -> None:
    rows = load_mapping("chexpert14_columns")
    for ds in ("mimic_cxr", "chexpert"):
        assert sorted(r["chexpert14"] for r in rows if r["dataset"] == ds) == sorted(
            get_label_space("chexpert14").names
        )


@pytest.mark.parametrize(
    "row", load_mapping("chexpert14_vindr_cxr"), ids=lambda r: r["vindr_label"]
)
def test_vindr_rows(row: dict[str, str]) -> None:
    assert row["vindr_label"] in _task_classes("vindr_cxr", "findings28")
    if row["chexpert14"]:
        assert row["chexpert14"] in get_label_space("chexpert14").names
    else:
        assert "dropped" in row["note"]


def test_vindr_table_covers_all_28_and_facts_sheet() -> None:
    rows = {r["vindr_label"]: r["chexpert14"] for r in load_mapping("chexpert14_vindr_cxr")}
    assert set(rows) == set(_task_classes("vindr_cxr", "findings28")) and len(rows) == 28
    dropped = {k for k, v in rows.items() if not v}
    assert dropped == {
        "Calcification",
        "Emphysema",
        "ILD",
        "Pulmonary fibrosis",
        "COPD",
        "Tuberculosis",
        "Other diseases",
    }
    assert {k for k, v in rows.items() if v == "Lung Lesion"} == {
        "Lung cavity",
        "Lung cyst",
        "Nodule/Mass",
        "Other lesion",
        "Lung tumor",
    }
    assert {k for k, v in rows.items() if v == "Enlarged Cardiomediastinum"} == {
        "Aortic enlargement",
        "Enlarged PA",
        "Mediastinal shift",
    }


@pytest.mark.parametrize(
    "row", load_mapping("derm5"), ids=lambda r: f"{r['dataset']}/{r['native']}"
)
def test_derm5_rows(row: dict[str, str]) -> None:
    assert row["derm5"] in get_label_space("derm5").names
    native = {"ham10000": "dx7", "pad_ufes_20": "diagnostic6"}[row["dataset"]]
    assert row["native"].upper() in _task_classes(row["dataset"], native)


@pytest.mark.parametrize("row", load_mapping("dr5"), ids=lambda r: f"{r['dataset']}/{r['native']}")
def test_dr5_rows(row: dict[str, str]) -> None:
    for g in row["dr5"].split("|"):
        assert g in get_label_space("dr5").names
    if row["dataset"] == "jichi":
        assert row["native"] in _task_classes("jichi", "davis4")
    else:
        assert get_label_space("dr5").names.index(row["dr5"]) == int(row["native"])


@pytest.mark.parametrize(
    "row", load_mapping("birads"), ids=lambda r: f"{r['dataset']}/{r['native']}"
)
def test_birads_rows(row: dict[str, str]) -> None:
    if not row["birads"]:
        assert row["native"] == "0"
        return
    assert row["birads"] in get_label_space("birads").names
    assert row["birads"] in _task_classes(row["dataset"], "birads")
    assert row["birads"].endswith(row["native"][-1])


def test_tables_are_in_package_data() -> None:
    from climb.labels import mapping_names

    assert set(IMAGING_TABLES) <= set(mapping_names())
