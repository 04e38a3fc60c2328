"""The expected layouts of the catalog's manual sources: the convention (one glob per line,
relative to ``raw/<key>/``, optional ``  # explanation``), and that each layout accepts the
files its dataset really ships (as the adapter reads them) and names what is missing."""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import pytest

from climb import registry
from climb.card import DatasetCard, Source, layout_entries, layout_problems
from climb.core.errors import CardError
from climb.fetch.sources.manual import check_layout, layout_patterns
from tests.conftest import shared_fixture

#: realistic paths (relative to raw/<key>/) of a minimal, correctly placed copy of each manual
#: dataset: what its adapter (or, without one, the official release) has on disk
PLACED: dict[str, tuple[str, ...]] = {
    "iiic": ("SZ_sample1.mat", "LPD_sample1.mat"),
    "tuab": (
        "v3.0.1/edf/train/normal/01_tcp_ar/aaaaamwf_s001_t000.edf",
        "v3.0.1/edf/train/abnormal/01_tcp_ar/aaaaaaaq_s004_t000.edf",
        "v3.0.1/edf/eval/normal/01_tcp_ar/aaaaappo_s001_t001.edf",
        "v3.0.1/edf/eval/abnormal/01_tcp_ar/aaaaapys_s002_t001.edf",
    ),
    "tuev": (
        "v2.0.1/edf/train/aaaaaaar/aaaaaaar_00000001.edf",
        "v2.0.1/edf/train/aaaaaaar/aaaaaaar_00000001.rec",
        "v2.0.1/edf/eval/aaaaaaju/aaaaaaju_00000001.edf",
        "v2.0.1/edf/eval/aaaaaaju/aaaaaaju_00000001.rec",
    ),
    "chexpert": (
        "CheXpert-v1.0/train.csv",
        "CheXpert-v1.0/valid.csv",
        "CheXpert-v1.0/train/patient00001/study1/view1_frontal.jpg",
        "CheXpert-v1.0/valid/patient64541/study1/view1_frontal.jpg",
    ),
    "messidor2": (
        "IMAGES/20051020_43808_0100_PP.png",
        "IMAGES/IM000001.JPG",
        # the Kaggle labels land in their own sub-folder; they are not part of this check
        "google-brain-messidor2-dr-grades/messidor_data.csv",
    ),
    "inspect": ("CTPA/PE453ae6a1.nii.gz", "Final_Impressions_labels.csv"),
    "lndb": (
        "data/LNDb-0001.mhd",
        "data/LNDb-0001.raw",
        "masks/LNDb-0001_rad1.mhd",
        "masks/LNDb-0001_rad1.raw",
        "trainNodules.csv",
    ),
    "echonet_dynamic": (
        "EchoNet-Dynamic/FileList.csv",
        "EchoNet-Dynamic/VolumeTracings.csv",
        "EchoNet-Dynamic/Videos/0X100009310A3BD7FC.avi",
    ),
    "abcd": ("abcd_rest-pearson-HCP2016.npy", "ids_HCP2016.txt", "id2sex.txt"),
    "ppmi": ("PPMI.mat",),
    "bcss": (
        "images/TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MPP-0.2500.png",
        "masks/TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MPP-0.2500.png",
    ),
    "cholec80": (
        "cholec80/videos/video01.mp4",
        "cholec80/phase_annotations/video01-phase.txt",
        "cholec80/tool_annotations/video01-tool.txt",
    ),
}


def _manual_layouts() -> list[tuple[str, str]]:
    return [
        (c.key, s.expected_layout)
        for c in registry.cards()
        for s in c.sources
        if s.kind == "manual"
    ]


def _layout(key: str) -> str:
    (layout,) = [lay for k, lay in _manual_layouts() if k == key]
    return layout


def _place(folder: Path, paths: tuple[str, ...]) -> None:
    for rel in paths:
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")


def test_every_manual_dataset_has_a_placed_copy() -> None:
    keys = {k for k, _ in _manual_layouts()}
    assert keys == set(PLACED), "add the new manual dataset's real paths to PLACED"


@pytest.mark.parametrize(("key", "layout"), _manual_layouts())
def test_catalog_layout_follows_the_convention(key: str, layout: str) -> None:
    assert layout.strip(), f"{key}: a manual source must say which files it expects"
    assert layout_problems(layout) == []
    for pattern, note in layout_entries(layout):
        assert "<root>" not in pattern and not pattern.startswith("/")
        assert not set(pattern) & set("{};<> "), pattern
        assert note == "" or not note.startswith("#")


@pytest.mark.parametrize("key", sorted(PLACED))
def test_layout_accepts_the_real_layout_and_names_what_is_missing(key: str, tmp_path: Path) -> None:
    layout = _layout(key)
    folder = tmp_path / "raw" / key
    _place(folder, PLACED[key])
    assert check_layout(folder, layout) == []
    # remove one file at a time: exactly the patterns it alone satisfied are reported
    for rel in PLACED[key]:
        (folder / rel).unlink()
        missing = check_layout(folder, layout)
        _place(folder, (rel,))
        needed = [g for g in layout_patterns(layout) if _only_match(folder, g, rel)]
        assert missing == needed, rel
    # removing every file a pattern matches gets that pattern reported
    for g in layout_patterns(layout):
        gone = [rel for rel in PLACED[key] if fnmatch.fnmatchcase(rel, g)]
        assert gone, f"{g}: no placed file matches it"
        for rel in gone:
            (folder / rel).unlink()
        assert g in check_layout(folder, layout)
        _place(folder, tuple(gone))


def _only_match(folder: Path, pattern: str, rel: str) -> bool:
    """True when ``rel`` is the only placed file matching ``pattern``."""
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    hits = [f for f in files if fnmatch.fnmatchcase(f, pattern)]
    return hits == [rel]


def test_chexpert_small_and_misplaced(tmp_path: Path) -> None:
    layout = _layout("chexpert")
    small = tmp_path / "small"
    _place(small, tuple(p.replace("v1.0/", "v1.0-small/") for p in PLACED["chexpert"]))
    assert check_layout(small, layout) == []
    # the old card's mistake: files one level too deep are not where prepare looks first
    flat = tmp_path / "flat"
    _place(flat, ("train.csv", "valid.csv", "train/patient00001/study1/view1_frontal.jpg"))
    assert check_layout(flat, layout) == layout_patterns(layout)


def test_missing_folder_lists_every_pattern(tmp_path: Path) -> None:
    layout = _layout("abcd")
    assert check_layout(tmp_path / "nope", layout) == [
        "abcd_rest-pearson-HCP2016.npy",
        "ids_HCP2016.txt",
        "id2sex.txt",
    ]


# -------------------------------------------------------------------- the convention


def test_layout_entries_parse_comments_and_tree_characters() -> None:
    layout = (
        "# a whole-line comment\n"
        "\n"
        "├── a/*.csv  # columns: x, y; one row per file\n"
        "│   └── b.txt\n"
        "|-- d.csv\n"
        "c/   # any file under c\n"
    )
    assert layout_entries(layout) == [
        ("a/*.csv", "columns: x, y; one row per file"),
        ("b.txt", ""),
        ("d.csv", ""),
        ("c/", "any file under c"),
    ]
    assert layout_patterns(layout) == ["a/*.csv", "b.txt", "d.csv", "c/*"]
    assert layout_problems(layout) == []


@pytest.mark.parametrize(
    ("layout", "why"),
    [
        ("<root>/raw/x/a.csv", "<root>"),
        ("/data/x/a.csv", "absolute"),
        ("CTPA/<impression_id>.nii.gz", "placeholder"),
        ("IMAGES/*.{png,jpg}", "braces"),
        ("videos/video01.mp4 .. video80.mp4", ".."),
        ("a.csv; b.csv", "';'"),
        ("a.csv (one row per subject)", "after the pattern"),
        ("PPMI.mat with variables X and label", "after the pattern"),
        ("# only a comment", "no file"),
    ],
)
def test_layout_problems_reject_prose(layout: str, why: str) -> None:
    problems = layout_problems(layout)
    assert problems and any(why in p for p in problems), problems


def test_card_validation_rejects_a_prose_layout() -> None:
    ok = Source("manual", url="https://x.org", instructions="ask", expected_layout="a/*.csv")
    ok.validate("test")
    bad = Source(
        "manual",
        url="https://x.org",
        instructions="ask",
        expected_layout="<root>/raw/x/{a,b}.csv; c.csv",
    )
    with pytest.raises(CardError, match="expected_layout"):
        bad.validate("test")
    # an empty layout stays allowed (then any one file will do)
    Source("manual", url="https://x.org", instructions="ask").validate("test")


def test_every_registered_card_passes_validation() -> None:
    for card in registry.cards():
        assert isinstance(card, DatasetCard)
        card.validate()


# -------------------------------------------------------------------- real fixtures


def test_iiic_fixture_passes_the_layout() -> None:
    folder = shared_fixture("iiic")
    assert check_layout(folder, _layout("iiic")) == []


def test_echonet_fixture_file_list_fits_the_layout(tmp_path: Path) -> None:
    """The fixture holds EchoNet-Dynamic's real FileList.csv (no videos): placed as the release
    has it, only the tracings and videos are reported; with them the layout passes."""
    file_list = shared_fixture("echonet") / "FileList.csv"
    layout = _layout("echonet_dynamic")
    folder = tmp_path / "raw" / "echonet_dynamic"
    (folder / "EchoNet-Dynamic").mkdir(parents=True)
    shutil.copy(file_list, folder / "EchoNet-Dynamic" / "FileList.csv")
    assert check_layout(folder, layout) == [
        "EchoNet-Dynamic/VolumeTracings.csv",
        "EchoNet-Dynamic/Videos/*.avi",
    ]
    first = file_list.read_text().splitlines()[1].split(",")[0]
    _place(folder, ("EchoNet-Dynamic/VolumeTracings.csv", f"EchoNet-Dynamic/Videos/{first}.avi"))
    assert check_layout(folder, layout) == []


def test_demo_chexpert_copy_passes_the_layout(tmp_path: Path) -> None:
    """The demo places a synthetic CheXpert as the card tells a user to; it must pass."""
    from climb.demo.corpus import _chexpert

    _chexpert(tmp_path, 30, 0, {"broken": {}, "datasets": {}})
    assert check_layout(tmp_path / "manual" / "chexpert", _layout("chexpert")) == []
