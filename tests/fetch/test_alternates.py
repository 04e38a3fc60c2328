"""Alternate copies of a card's data: skipped by default, chosen with --source, named in errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from climb import registry
from climb.card import Source
from climb.catalog import card_markdown
from climb.core.errors import CardError, ClimbError
from climb.fetch.api import alternate_hint, select_sources, source_spec
from climb.fetch.credentials import CredentialsError
from climb.fetch.engine import AccessError
from tests.fetch.emulators import Blob, Emulator
from tests.fetch.helpers import card, fetch
from tests.fetch.test_cli import _test_cards, run  # noqa: F401 (autouse fixture: test cards)

PRIMARY = os.urandom(5000)
SPLITS = b"id,split\n1,train\n"
KAGGLE_FILES = {"copy/primary.bin": PRIMARY}


def _serve(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu.blobs["/blob/primary.bin"] = Blob(PRIMARY)
    emu.blobs["/blob/splits.csv"] = Blob(SPLITS)
    emu.kaggle["owner/alt-copy"] = {"files": dict(KAGGLE_FILES)}
    emu.kaggle_users["kim"] = "key-kim"
    monkeypatch.setenv("FETCHTEST_ALT_URL", f"{emu.url}/blob")


def _alt_card():  # type: ignore[no-untyped-def]
    from tests.fetch._cards_data import alt

    return alt()


def test_card_validation_of_alternates() -> None:
    primary = Source(kind="physionet", id="ptb-xl", version="1.0.3")
    alt = Source(kind="kaggle", id="owner/copy", alternate=True)
    c = card("ok_alt", (primary, alt))
    assert c.primary_source() == 0 and c.alternates() == [1]
    with pytest.raises(CardError, match=r"sources\[1\].alternate .*primary copy"):
        card("only_alt", (alt,))
    with pytest.raises(CardError, match=r"sources\[1\].alternate .*primary copy"):
        card("alt_first", (alt, primary))
    splits = Source(kind="github", id="o/r", version="abc1234", role="splits", alternate=True)
    with pytest.raises(CardError, match=r"sources\[2\].alternate only applies to data sources"):
        card("alt_splits", (primary, splits))
    # a labels source before the data does not count as the primary copy
    labels = Source(kind="url", url="https://example.org/labels.csv", role="labels")
    assert card("labels_first", (labels, primary, alt)).primary_source() == 1


def test_registry_alternates_are_declared() -> None:
    """Cards listing two copies of the same data mark the extra copy as an alternate."""
    alternates = {c.key: c.alternates() for c in registry.cards() if c.alternates()}
    assert alternates == {
        "cbis_ddsm": [1],
        "chapman_shaoxing": [1],
        "georgia": [1],
        "mimic_iv": [1],
        "ptbxl": [1],
    }
    # several data sources, all needed, except the open demo: an alternate copy of hosp/icu
    mimic = registry.get_card("mimic_iv")
    assert [s.role for s in mimic.sources].count("data") > 1
    assert [mimic.sources[i].id for i in mimic.alternates()] == ["mimic-iv-demo"]
    assert select_sources(mimic) == [i for i in range(len(mimic.sources)) if i != 1]
    assert select_sources(mimic, ("mimic-iv-demo",)) == [1]
    georgia = registry.get_card("georgia")
    assert select_sources(georgia) == [0, 2]
    assert select_sources(georgia, ("kaggle",)) == [1]
    assert select_sources(georgia, ("2", "github")) == [1, 2]
    assert source_spec(georgia, 1) == "kaggle"
    assert source_spec(registry.get_card("ptbxl"), 1) == "2"  # two physionet sources
    hint = alternate_hint(georgia, 0)
    assert hint is not None and "climb fetch georgia --source kaggle --source github" in hint
    assert alternate_hint(georgia, 2) is None  # only the primary data source has alternates
    md = card_markdown(georgia)
    assert "- source 1: PhysioNet challenge-2020/1.0.2" in md
    assert (
        "- source 2: Kaggle dataset bjoernjostein/georgia-12lead-ecg-challenge-database — data, "
        "an alternate copy of source 1 (not fetched by default: "
        "`climb fetch georgia --source kaggle`)"
    ) in md


def test_source_specs_that_do_not_exist() -> None:
    georgia = registry.get_card("georgia")
    with pytest.raises(ClimbError, match="no source number 4") as info:
        select_sources(georgia, ("4",))
    assert "2 = kaggle" in (info.value.fix or "")
    with pytest.raises(ClimbError, match="no source 'zenodo'"):
        select_sources(georgia, ("zenodo",))


def test_alternate_skipped_by_default_and_chosen_with_source(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(emu, monkeypatch)
    c = _alt_card()
    res = fetch(c, root)  # no Kaggle credentials needed: the alternate is not touched
    folder = root / "raw" / "fetchtest_alt"
    assert res.skipped_alternates == [1]
    assert (folder / "primary.bin").read_bytes() == PRIMARY
    assert (folder / "splits" / "splits.csv").read_bytes() == SPLITS
    assert emu.requests("/kaggle") == []
    assert not (folder / "owner-alt-copy").exists()
    # --source kaggle: exactly the Kaggle copy (into its own sub-folder)
    monkeypatch.setenv("KAGGLE_USERNAME", "kim")
    monkeypatch.setenv("KAGGLE_KEY", "key-kim")
    n = len(emu.requests("/blob"))
    res = fetch(c, root, sources=("kaggle",))
    assert res.skipped_alternates == []
    assert (folder / "owner-alt-copy" / "copy" / "primary.bin").read_bytes() == PRIMARY
    assert emu.requests("/blob")[n:] == []
    # by number, as `climb datasets show` numbers them
    res = fetch(c, root, sources=("2",))
    assert res.summary is not None and res.summary.downloaded == 0


def test_primary_refused_at_listing_names_the_alternate(
    emu: Emulator, env: dict, root: Path
) -> None:
    primary = Source(kind="physionet", id="closed-db", version="1.0.0")
    alt = Source(kind="kaggle", id="owner/alt-copy", alternate=True)
    splits = Source(kind="url", url=f"{emu.url}/blob/splits.csv", role="splits")
    emu.add_physionet("closed-db", "1.0.0", {"a.dat": b"x" * 10}, protected=True)
    with pytest.raises(AccessError) as info:
        fetch(card("pn_alt", (primary, alt, splits)), root)
    fix = info.value.fix or ""
    assert "alternate copy" in fix and "Kaggle dataset owner/alt-copy" in fix
    assert "climb fetch pn_alt --source kaggle --source url" in fix
    assert "climb fetch pn_alt --source kaggle --source url" in str(info.value)
    # missing credentials count as an access reason too
    cred = card("pn_alt_cred", (primary, alt), access="credentialed")
    with pytest.raises(CredentialsError) as info2:
        fetch(cred, root)
    assert "PHYSIONET_USERNAME" in (info2.value.fix or "")
    assert "climb fetch pn_alt_cred --source kaggle" in (info2.value.fix or "")
    # a failing source that is not the primary data source gets no such hint
    with pytest.raises(CredentialsError) as info3:
        fetch(
            card("kg_only", (Source(kind="url", url=f"{emu.url}/blob/x"), alt)),
            root,
            sources=("2",),
        )
    assert "--source" not in (info3.value.fix or "")


def test_primary_refused_during_download_names_the_alternate(
    emu: Emulator, env: dict, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(emu, monkeypatch)
    emu.fault("/blob/primary.bin", "403*")
    with pytest.raises(AccessError) as info:
        fetch(_alt_card(), root)
    assert "access denied (403)" in info.value.what
    assert "climb fetch fetchtest_alt --source kaggle --source 3" in (info.value.fix or "")


def test_cli_source_option(emu: Emulator, env: dict, root: Path) -> None:
    emu.blobs["/blob/primary.bin"] = Blob(PRIMARY)
    emu.blobs["/blob/splits.csv"] = Blob(SPLITS)
    emu.kaggle["owner/alt-copy"] = {"files": dict(KAGGLE_FILES)}
    emu.kaggle_users["kim"] = "key-kim"
    env = {**env, "FETCHTEST_ALT_URL": f"{emu.url}/blob"}
    dry = run(env, "fetch", "fetchtest_alt", "--root", str(root), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "skipped source 2, Kaggle dataset owner/alt-copy" in dry.stdout
    assert "'climb fetch fetchtest_alt --source kaggle'" in dry.stdout
    res = run(env, "fetch", "fetchtest_alt", "--root", str(root), "-q")
    assert res.returncode == 0, res.stderr
    assert "skipped source 2" in res.stdout
    bad = run(env, "fetch", "fetchtest_alt", "--root", str(root), "--source", "7")
    assert bad.returncode == 2 and "no source number 7" in bad.stderr
    assert "Traceback" not in bad.stderr
    nocred = run(env, "fetch", "fetchtest_alt", "--root", str(root), "--source", "kaggle")
    assert nocred.returncode == 2 and "KAGGLE_USERNAME" in nocred.stderr
    env = {**env, "KAGGLE_USERNAME": "kim", "KAGGLE_KEY": "key-kim"}
    ok = run(env, "fetch", "fetchtest_alt", "--root", str(root), "-q", "--source", "kaggle")
    assert ok.returncode == 0, ok.stderr
    folder = root / "raw" / "fetchtest_alt"
    assert (folder / "owner-alt-copy" / "copy" / "primary.bin").read_bytes() == PRIMARY
    assert run(env, "verify", "fetchtest_alt", "--root", str(root)).returncode == 0
    shown = run(env, "access", "fetchtest_alt")
    assert "owner/alt-copy (alternate copy, fetched only with --source)" in shown.stdout
