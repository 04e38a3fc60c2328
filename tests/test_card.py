from __future__ import annotations

import dataclasses
import json

import pytest

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.core.errors import CardError

BIB = "@article{x2020,\n  title={X},\n  year={2020}\n}"


def make(**over) -> DatasetCard:
    base = dict(
        key="toy_set",
        name="Toy",
        domain="ecg",
        description="A toy dataset.",
        modalities=(Modality("ecg", "signal", shape=(12, 5000), axes=("lead", "time")),),
        tasks=(Task("dx", "multiclass", ("a", "b", "c")),),
        licence=Licence("CC-BY-4.0", "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
        access="open",
        sources=(Source("physionet", id="toy", version="1.0.0"),),
        homepage="https://example.org/toy",
        citation=BIB,
        samples=10,
        splits={"train": 8, "test": 2},
    )
    base.update(over)
    return DatasetCard(**base)


def test_valid_card_round_trips_through_json() -> None:
    card = make(discrepancies=(Discrepancy("size", "10", "12", "10", "because"),))
    data = json.loads(json.dumps(card.to_dict()))
    assert DatasetCard.from_dict(data) == card
    assert card.task("dx").num_classes == 3


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"key": "Bad-Key"}, "key"),
        ({"domain": "cardiology"}, "domain"),
        ({"access": "free"}, "access"),
        ({"homepage": "example.org"}, "homepage"),
        ({"citation": "Wagner et al. 2020"}, "citation"),
        ({"splits": {"train": 5, "test": 2}}, "add up"),
        ({"samples": 0, "splits": {}}, "samples"),
        ({"tasks": ()}, "task"),
        ({"sources": ()}, "source"),
        ({"tasks": (Task("dx", "binary", ("a", "b", "c")),)}, "does not fit"),
        ({"tasks": (Task("dx", "multiclass", ("a", "b")),)}, "does not fit"),
        ({"tasks": (Task("dx", "regression", ("a",)),)}, "does not fit"),
        ({"tasks": (Task("dx", "multilabel", ("a", "a")),)}, "duplicates"),
        (
            {"tasks": (Task("dx", "binary", ("a", "b")), Task("dx", "binary", ("a", "b")))},
            "duplicate",
        ),
        ({"modalities": (Modality("ecg", "signal", shape=(12, -1)),)}, "dimension"),
        ({"modalities": (Modality("ecg", "wave"),)}, "kind"),
        ({"sources": (Source("physionet", id="toy"),)}, "version"),
        ({"sources": (Source("kaggle", id="no-owner"),)}, "owner/dataset"),
        ({"sources": (Source("kaggle", id="a/b", competition=True),)}, "competition slug"),
        ({"sources": (Source("zenodo", id="abc"),)}, "numeric"),
        ({"sources": (Source("github", id="a/b"),)}, "pin"),
        ({"sources": (Source("github", id="a/b", version="main"),)}, "not a branch"),
        ({"sources": (Source("huggingface", id="a/b", version="main"),)}, "repo_type"),
        ({"sources": (Source("url"),)}, "required"),
        ({"sources": (Source("url", url="https://x.org/a.zip", sha256="xyz"),)}, "sha256"),
        ({"sources": (Source("manual", url="https://x.org"),)}, "instructions"),
        ({"sources": (Source("physionet", id="t", version="1", role="weights"),)}, "role"),
        ({"licence": Licence("CC BY", "x")}, "licence.id"),
    ],
)
def test_invalid_cards_are_rejected_with_a_clear_error(over: dict, needle: str) -> None:
    with pytest.raises(CardError) as info:
        make(**over)
    msg = str(info.value)
    assert needle in msg
    assert "toy_set" in msg or "Bad-Key" in msg  # says which card
    assert "what to do" in msg


def test_cards_are_frozen() -> None:
    card = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.key = "other"  # type: ignore[misc]


def test_from_dict_rejects_unknown_fields() -> None:
    data = make().to_dict()
    data["tasks"][0]["n_classes"] = 3
    with pytest.raises(CardError, match="unknown field"):
        DatasetCard.from_dict(data)


def test_unknown_task_lookup_lists_the_tasks() -> None:
    with pytest.raises(CardError, match="choose one of: dx"):
        make().task("nope")


def test_source_describe_and_automatable() -> None:
    assert Source("physionet", id="ptb-xl", version="1.0.3").describe() == "PhysioNet ptb-xl/1.0.3"
    assert Source("kaggle", id="x", competition=True).describe() == "Kaggle competition x"
    manual = Source("manual", url="https://x.org", instructions="ask")
    assert not manual.automatable
    assert not make(sources=(manual,)).automatable
    assert make().automatable
