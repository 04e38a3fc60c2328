"""url sources on public S3 prefixes: anonymous ListObjectsV2 against a loopback S3 emulator."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from climb.card import Source
from climb.core.errors import ClimbError
from climb.fetch.api import verify_folder
from climb.fetch.config import load_config
from climb.fetch.engine import AccessError
from climb.fetch.sources.url import etag_checksum, parse_s3_url
from climb.registry import get_card
from tests.fetch.emulators import Emulator, s3_object
from tests.fetch.helpers import card, fetch, no_partials

ABIDE = "data/Projects/ABIDE_Initiative/"
ROIS = ABIDE + "Outputs/cpac/filt_noglobal/rois_cc200/"
SUBJECTS = ("Pitt_0050003", "Pitt_0050004", "NYU_0051036", "UM_1_0050272", "Yale_0050551")


def _roi(fid: str) -> bytes:
    header = "\t".join(f"#{i}" for i in range(1, 201))
    rng = hashlib.sha256(fid.encode()).digest()
    rows = [
        "\t".join(f"{(rng[(i + j) % 32] - 128) / 10:.4f}" for j in range(200)) for i in range(6)
    ]
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def _phenotype() -> bytes:
    lines = ["SUB_ID,FILE_ID,SITE_ID,DX_GROUP,AGE_AT_SCAN,SEX"]
    for n, fid in enumerate(SUBJECTS):
        lines.append(f"{50000 + n},{fid},{fid.split('_')[0]},{1 + n % 2},20.5,1")
    lines.append("50099,no_filename,NYU,1,11.0,2")
    return ("\n".join(lines) + "\n").encode()


def _abide_bucket(emu: Emulator, multipart: str = SUBJECTS[-1]) -> dict[str, bytes]:
    """fcp-indi with the phenotype table, five ROI files (one with a multipart-style ETag)
    and files outside the prefix; two keys per listing page (pagination)."""
    rois = {f"{fid}_rois_cc200.1D": _roi(fid) for fid in SUBJECTS}
    objects = {ABIDE + "Phenotypic_V1_0b_preprocessed1.csv": s3_object(_phenotype())}
    for name, data in rois.items():
        objects[ROIS + name] = s3_object(data, multipart=3 if multipart in name else 0)
    objects[ABIDE + "Outputs/cpac/filt_noglobal/rois_cc400/x_rois_cc400.1D"] = s3_object(b"no")
    objects[ROIS.rstrip("/") + "_other/y.1D"] = s3_object(b"outside the prefix")
    emu.s3["fcp-indi"] = objects
    emu.s3_page = 2
    return rois


def test_parse_s3_urls() -> None:
    loc = parse_s3_url("https://s3.amazonaws.com/fcp-indi/" + ROIS)
    assert loc is not None and (loc.bucket, loc.key, loc.virtual) == ("fcp-indi", ROIS, False)
    loc = parse_s3_url("https://s3.us-west-2.amazonaws.com/b/p/")
    assert loc is not None and (loc.endpoint, loc.bucket, loc.key) == (
        "https://s3.us-west-2.amazonaws.com",
        "b",
        "p/",
    )
    loc = parse_s3_url("https://my.bucket.s3.eu-west-1.amazonaws.com/a/b/")
    assert loc is not None and (loc.bucket, loc.key, loc.virtual) == ("my.bucket", "a/b/", True)
    loc = parse_s3_url("https://fcp-indi.s3.amazonaws.com/data/")
    assert loc is not None and loc.bucket == "fcp-indi"
    # without a mirror, each URL keeps its own endpoint (region, virtual host)
    cfg = load_config(env={})
    assert loc.base(cfg) == "https://fcp-indi.s3.amazonaws.com"
    assert parse_s3_url("https://s3.us-west-2.amazonaws.com/b/p/").base(cfg) == (  # type: ignore[union-attr]
        "https://s3.us-west-2.amazonaws.com/b"
    )
    mirror = load_config(env={"CLIMB_S3_URL": "http://127.0.0.1:9/s3"})
    assert loc.base(mirror) == "http://127.0.0.1:9/s3/fcp-indi"
    for url in ("https://example.org/data/", "https://b.s3-website-us-east-1.amazonaws.com/x/"):
        assert parse_s3_url(url) is None
    assert etag_checksum('"9e107d9d372bb6826bd81d3542a419d6"') is not None
    assert etag_checksum('"9e107d9d372bb6826bd81d3542a419d6-3"') is None


def test_abide_card_fetches_the_s3_prefix_end_to_end(emu: Emulator, env: dict, root: Path) -> None:
    rois = _abide_bucket(emu)
    abide = get_card("abide")
    res = fetch(abide, root)
    folder = root / "raw" / "abide"
    assert res.summary is not None and not res.summary.failed
    assert res.summary.downloaded == 1 + len(rois)
    assert (folder / "Phenotypic_V1_0b_preprocessed1.csv").read_bytes() == _phenotype()
    got = {p.name: p.read_bytes() for p in (folder / "rois_cc200").iterdir()}
    assert got == rois  # nothing outside the prefix, nothing of other atlases
    assert no_partials(folder) == []
    # paginated listing: 2 keys per page, continuation tokens passed back
    listings = [r for r in emu.requests("/s3/fcp-indi") if r["query"].get("list-type") == "2"]
    assert len(listings) >= 3
    assert listings[0]["query"]["prefix"] == ROIS
    assert all("continuation-token" in r["query"] for r in listings[1:])
    # md5 ETags become published checksums; the multipart one only size-checked
    manifest = json.loads((folder / ".climb-fetch.json").read_text())["files"]
    for name, data in rois.items():
        entry = manifest[f"rois_cc200/{name}"]
        assert entry["size"] == len(data)
        if SUBJECTS[-1] in name:
            assert entry["checksum"] is None
        else:
            assert entry["checksum"] == "md5:" + hashlib.md5(data).hexdigest()
    # a re-run downloads nothing
    n = len(emu.requests(ROIS))
    again = fetch(abide, root)
    assert again.summary is not None and again.summary.downloaded == 0
    assert again.summary.skipped == 1 + len(rois)
    assert [r for r in emu.requests(ROIS)[n:] if "list-type" not in r["query"]] == []
    # the prepare adapter finds the files where climb fetch puts them
    from climb.core.adapter import PrepareOptions
    from climb.datasets.brain_network._adapters import AbideAdapter

    refs = AbideAdapter().list_records(folder, PrepareOptions())
    assert {r.source_path for r in refs} >= {f"rois_cc200/{n}" for n in rois}
    # a file corrupted on disk is reported by climb verify
    (folder / "rois_cc200" / f"{SUBJECTS[0]}_rois_cc200.1D").write_bytes(b"garbage")
    report = verify_folder("abide", folder)
    assert [p for p, _ in report.corrupt] == [f"rois_cc200/{SUBJECTS[0]}_rois_cc200.1D"]


def test_corrupt_s3_object_is_detected_by_its_md5(emu: Emulator, env: dict, root: Path) -> None:
    _abide_bucket(emu)
    bad = f"{SUBJECTS[1]}_rois_cc200.1D"
    emu.fault(f"/s3/fcp-indi/{ROIS}{bad}", "corrupt*")
    c = card("s3_prefix", (Source(kind="url", url="https://s3.amazonaws.com/fcp-indi/" + ROIS),))
    res = fetch(c, root)
    assert res.summary is not None and [p for p, _ in res.summary.failed] == [bad]
    assert "checksum mismatch" in res.summary.failed[0][1].what
    assert not (root / "raw" / "s3_prefix" / bad).exists()
    # the multipart-ETag object is only size-checked, so a corrupt copy of it is not caught by
    # a checksum; its size still is
    assert len(list((root / "raw" / "s3_prefix").glob("*.1D"))) == len(SUBJECTS) - 1


def test_include_globs_and_virtual_hosted_urls(emu: Emulator, env: dict, root: Path) -> None:
    rois = _abide_bucket(emu)
    url = "https://fcp-indi.s3.us-east-1.amazonaws.com/" + ROIS
    c = card("s3_inc", (Source(kind="url", url=url, include=("Pitt_*",)),))
    res = fetch(c, root)
    assert res.summary is not None and res.summary.downloaded == 2
    got = sorted(p.name for p in (root / "raw" / "s3_inc").glob("*.1D"))
    assert got == sorted(n for n in rois if n.startswith("Pitt_"))
    c = card("s3_none", (Source(kind="url", url=url, include=("nothing*",)),))
    with pytest.raises(ClimbError, match="holds no object matching"):
        fetch(c, root)


def test_unlisted_bucket_and_missing_bucket(emu: Emulator, env: dict, root: Path) -> None:
    emu.s3["private-bucket"] = {"data/a.bin": s3_object(os.urandom(100))}
    emu.s3_unlisted.add("private-bucket")
    c = card(
        "s3_private", (Source(kind="url", url="https://s3.amazonaws.com/private-bucket/data/"),)
    )
    with pytest.raises(AccessError) as info:
        fetch(c, root)
    msg = str(info.value)
    assert "does not allow anonymous listing (AccessDenied)" in msg
    assert "/s3/private-bucket" in msg and "what to do:" in msg
    c = card("s3_missing", (Source(kind="url", url="https://s3.amazonaws.com/nobucket/data/"),))
    with pytest.raises(ClimbError, match=r"does not exist \(NoSuchBucket\)"):
        fetch(c, root)


def test_folder_url_that_is_not_s3_is_a_clear_error(emu: Emulator, env: dict, root: Path) -> None:
    c = card("not_s3", (Source(kind="url", url="https://example.org/some/folder/"),))
    with pytest.raises(ClimbError) as info:
        fetch(c, root)
    assert "is a folder" in info.value.what and "only on Amazon S3" in info.value.what
    assert info.value.fix
    assert emu.requests() == []  # no silent single-file attempt
