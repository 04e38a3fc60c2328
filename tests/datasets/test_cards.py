"""Every registered card is checked here: adding a dataset module tests it automatically."""

from __future__ import annotations

import json
import re

import pytest

from climb import registry
from climb.card import DOMAINS, DatasetCard
from climb.labels import get_label_space, label_space_keys

ALL_KEYS = registry.keys()

# The catalog's contract: these keys are stable (scripts and configs depend on them).
REQUIRED_KEYS = [
    "ptbxl",
    "chapman_shaoxing",
    "georgia",
    "cpsc2018",
    "iiic",
    "tuab",
    "tuev",
    "mimic_cxr",
    "chexpert",
    "vindr_cxr",
    "covid19_cxr",
    "coronahack",
    "vindr_mammo",
    "cbis_ddsm",
    "cmmd",
    "isic2020",
    "ham10000",
    "pad_ufes_20",
    "messidor2",
    "aptos2019",
    "jichi",
    "lndb",
    "inspect",
    "kits23",
    "brain_ct_hemorrhage",
    "rspect",
    "echonet_dynamic",
    "busi",
    "covid_blues",
    "covid_us",
    "brain_tumor",
    "brain_mri",
    "abcd",
    "abide",
    "ppmi",
    "proteins",
    "ppi",
    "lc25000",
    "bcss",
    "cholec80",
    "hugadb",
    "expression_atlas",
    "geo",
    "vital",
    "mimic_iv",
]


def test_every_required_key_is_registered() -> None:
    missing = sorted(set(REQUIRED_KEYS) - set(ALL_KEYS))
    assert not missing, f"catalog lacks {missing}"
    assert len(REQUIRED_KEYS) == 45


def test_every_domain_is_covered() -> None:
    covered = {registry.get_card(k).domain for k in ALL_KEYS}
    assert covered == set(DOMAINS)


@pytest.fixture(params=ALL_KEYS)
def card(request: pytest.FixtureRequest) -> DatasetCard:
    return registry.get_card(request.param)


def test_card_key_matches_its_module(card: DatasetCard) -> None:
    cls = registry.get(card.key)
    module = cls.__module__
    if module.startswith("climb.datasets."):
        assert module == f"climb.datasets.{card.domain}.{card.key}", (
            "built-in cards live in climb/datasets/<domain>/<key>.py"
        )


def test_card_required_fields_are_filled(card: DatasetCard) -> None:
    assert card.name and card.description and card.homepage
    assert card.licence.id and card.licence.name
    assert card.sources and card.tasks and card.modalities
    assert card.samples is not None, "sample count is required for catalog statistics"
    assert re.match(r"^@\w+\{[^,\s]+,", card.citation.strip()), "citation must be BibTeX"
    assert card.citation.count("{") == card.citation.count("}"), "unbalanced BibTeX braces"
    assert "title" in card.citation.lower()


def test_card_tasks_are_consistent(card: DatasetCard) -> None:
    spaces = set(label_space_keys())
    for task in card.tasks:
        if task.type == "binary":
            assert task.num_classes == 2
        elif task.type == "multiclass":
            assert task.num_classes >= 3
        if task.label_space is not None:
            assert task.label_space in spaces, (
                f"task {task.name} names unknown space {task.label_space}"
            )
            assert task.classes == get_label_space(task.label_space).names


def test_card_sources_are_well_formed(card: DatasetCard) -> None:
    for source in card.sources:
        source.validate(card.key)  # raises on malformed identifiers
        assert source.describe()
        if source.kind == "manual":
            assert source.instructions and source.url


def test_card_splits_add_up(card: DatasetCard) -> None:
    if card.splits:
        assert sum(card.splits.values()) == card.samples


def test_card_is_json_round_trippable(card: DatasetCard) -> None:
    data = json.loads(json.dumps(card.to_dict()))
    assert DatasetCard.from_dict(data) == card


def test_card_access_matches_sources(card: DatasetCard) -> None:
    kinds = {s.kind for s in card.sources if s.role == "data"}
    if card.access == "competition":
        assert any(s.kind == "kaggle" and s.competition for s in card.sources)
    if card.access == "credentialed":
        assert kinds & {"physionet", "manual"}
