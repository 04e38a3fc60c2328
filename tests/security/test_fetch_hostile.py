"""Hostile servers for every source: path traversal and reserved names in file lists, answers
that are not JSON, credentials over plain HTTP, and cross-host redirects with credentials."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from climb.card import Source
from climb.core.errors import ClimbError
from climb.fetch.config import load_config
from climb.fetch.engine import AccessError, Engine
from climb.fetch.manifest import Manifest
from climb.fetch.types import RemoteFile
from tests.fetch.emulators import Emulator
from tests.fetch.helpers import card, fetch
from tests.security.hostile import Hostile

TRAVERSALS = ("../../../escape.txt", "/abs-escape.txt", "ok/../../escape.txt")


def _escaped(tmp_path: Path) -> list[Path]:
    """Files named like the traversal targets anywhere under the test's folder (or above)."""
    hits = [p for p in tmp_path.rglob("*escape*") if p.is_file()]
    hits += [p for p in (tmp_path.parent, tmp_path.parent.parent) if (p / "escape.txt").exists()]
    return hits + [p for p in (Path("/abs-escape.txt"),) if p.exists()]


# ------------------------------------------------------------------ path traversal in listings
@pytest.mark.parametrize("bad", TRAVERSALS)
def test_huggingface_listing_cannot_escape(
    emu: Emulator, env: dict, root: Path, tmp_path: Path, bad: str
) -> None:
    emu.hf[("dataset", "org/ds", "r")] = {"files": {bad: b"pwned", "ok.txt": b"fine"}}
    c = card("hft", (Source(kind="huggingface", id="org/ds", version="r", repo_type="dataset"),))
    with pytest.raises(ClimbError) as e:
        fetch(c, root)
    assert "leaves the dataset folder" in e.value.what
    assert "Hugging Face dataset org/ds@r" in e.value.what  # names the source
    assert _escaped(tmp_path) == []
    assert not (root / "raw" / "hft" / "ok.txt").exists()  # refused before any download
    assert emu.requests("/resolve/") == []


def test_zenodo_listing_cannot_escape(emu: Emulator, env: dict, root: Path, tmp_path: Path) -> None:
    emu.zenodo["77"] = {"../evil-escape.txt": b"pwned"}
    with pytest.raises(ClimbError, match="Zenodo record 77") as e:
        fetch(card("zt", (Source(kind="zenodo", id="77"),)), root)
    assert "leaves the dataset folder" in e.value.what
    assert _escaped(tmp_path) == []


def test_kaggle_include_listing_cannot_escape(
    emu: Emulator, env: dict, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", "kim")
    monkeypatch.setenv("KAGGLE_KEY", "key-kim")
    emu.kaggle_users["kim"] = "key-kim"
    emu.kaggle["o/ds"] = {"files": {"../../kaggle-escape.csv": b"a\n", "x.csv": b"b\n"}}
    c = card("kt", (Source(kind="kaggle", id="o/ds", include=("*.csv",)),))
    with pytest.raises(ClimbError, match="Kaggle dataset o/ds"):
        fetch(c, root)
    assert _escaped(tmp_path) == []


def test_github_release_asset_cannot_escape(
    emu: Emulator, env: dict, root: Path, tmp_path: Path
) -> None:
    emu.releases[("org/repo", "v1")] = {"../../gh-escape.bin": b"pwned"}
    c = card("gt", (Source(kind="github", id="org/repo", version="v1", include=("release:*",)),))
    with pytest.raises(ClimbError, match="leaves the dataset folder"):
        fetch(c, root)
    assert _escaped(tmp_path) == []


def test_listing_cannot_overwrite_the_manifest(emu: Emulator, env: dict, root: Path) -> None:
    emu.hf[("dataset", "org/ds", "r")] = {"files": {"ok.txt": b"fine"}}
    c = card("hfm", (Source(kind="huggingface", id="org/ds", version="r", repo_type="dataset"),))
    fetch(c, root)
    manifest = root / "raw" / "hfm" / ".climb-fetch.json"
    before = manifest.read_bytes()
    emu.hf[("dataset", "org/ds", "r")]["files"][".climb-fetch.json"] = b'{"files": {}}'
    with pytest.raises(ClimbError, match="reserved"):
        fetch(c, root)
    assert manifest.read_bytes() == before


# ------------------------------------------------------------------ answers that are not JSON
LOGIN = b"<!DOCTYPE html><html><body><form>Sign in</form></body></html>"


@pytest.mark.parametrize(
    ("kind", "route", "src"),
    [
        ("huggingface", "/api/datasets/org/ds/tree/r",
         Source(kind="huggingface", id="org/ds", version="r", repo_type="dataset")),
        ("zenodo", "/api/records/5", Source(kind="zenodo", id="5")),
        ("kaggle", "/api/v1/datasets/list/o/ds", Source(kind="kaggle", id="o/ds")),
        ("github_api", "/repos/org/repo/releases/tags/v1",
         Source(kind="github", id="org/repo", version="v1", include=("release:*",))),
        ("tcia", "/nbia-api/services/v4/getSeries", Source(kind="tcia", id="COLL")),
    ],
)  # fmt: skip
def test_html_instead_of_json_is_a_clear_error(
    env: dict,
    root: Path,
    hostile: Hostile,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    route: str,
    src: Source,
) -> None:
    monkeypatch.setenv(f"CLIMB_{kind.upper()}_URL", hostile.url)
    monkeypatch.setenv("KAGGLE_USERNAME", "kim")
    monkeypatch.setenv("KAGGLE_KEY", "k")
    hostile.route(route, 200, LOGIN, Content_Type="text/html; charset=utf-8")
    with pytest.raises(ClimbError) as e:
        fetch(card("nj", (src,)), root)
    assert "an HTML page" in e.value.what and "text/html" in e.value.what
    assert e.value.where and hostile.url.split("//")[1] in e.value.where
    assert hostile.requests(route)  # the server was asked, the answer refused


def test_json_of_the_wrong_shape_is_a_clear_error(
    env: dict, root: Path, hostile: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIMB_HUGGINGFACE_URL", hostile.url)
    body = json.dumps({"error": "maintenance"}).encode()
    hostile.route("/api/datasets/org/ds/tree/r", 200, body, Content_Type="application/json")
    src = Source(kind="huggingface", id="org/ds", version="r", repo_type="dataset")
    with pytest.raises(ClimbError, match="unexpected shape"):
        fetch(card("nj2", (src,)), root)


# ------------------------------------------------------------------ credentials over plain HTTP
MIRROR = "http://mirror.example.invalid"


@pytest.mark.parametrize(
    ("kind", "creds", "src", "access"),
    [
        ("huggingface", {"HF_TOKEN": "hf_secret"},
         Source(kind="huggingface", id="org/ds", version="r", repo_type="dataset"), "open"),
        ("zenodo", {"ZENODO_TOKEN": "zen_secret"}, Source(kind="zenodo", id="5"), "open"),
        ("github_api", {"GITHUB_TOKEN": "gh_secret"},
         Source(kind="github", id="org/repo", version="v1", include=("release:*",)), "open"),
        ("kaggle", {"KAGGLE_USERNAME": "kim", "KAGGLE_KEY": "kg_secret"},
         Source(kind="kaggle", id="o/ds"), "open"),
        ("physionet", {"PHYSIONET_USERNAME": "u", "PHYSIONET_PASSWORD": "pn_secret"},
         Source(kind="physionet", id="proj", version="1.0"), "credentialed"),
    ],
)  # fmt: skip
def test_no_credentials_over_plain_http(
    env: dict,
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    creds: dict[str, str],
    src: Source,
    access: str,
) -> None:
    monkeypatch.setenv(f"CLIMB_{kind.upper()}_URL", MIRROR)
    for k, v in creds.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(AccessError) as e:
        fetch(card("ph", (src,), access), root)
    assert "refusing to send credentials over plain HTTP" in e.value.what
    assert "mirror.example.invalid" in (e.value.where or "")
    assert not any(v in e.value.render() for v in creds.values() if "secret" in v)


def test_engine_refuses_any_credentialed_plain_http_file(tmp_path: Path) -> None:
    """The rule is the engine's, whatever the source: auth object or Authorization header."""
    config = load_config()
    with Engine(config) as engine:
        for rf in (
            RemoteFile("a.bin", "http://198.51.100.7/a.bin", auth=httpx.BasicAuth("u", "p")),
            RemoteFile("b.bin", "http://198.51.100.7/b.bin", headers={"Authorization": "x"}),
        ):
            with pytest.raises(AccessError, match="plain HTTP"):
                engine.download_all([rf], tmp_path / "d", Manifest(tmp_path / "d", "k"))
        with pytest.raises(AccessError, match="plain HTTP"):
            engine.request("GET", "http://198.51.100.7/api", auth=httpx.BasicAuth("u", "p"))
    assert not (tmp_path / "d" / "a.bin").exists()


def test_credentials_to_loopback_http_are_allowed(
    env: dict, root: Path, hostile: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local test server or tunnel (127.0.0.1, localhost, ::1) may get them."""
    monkeypatch.setenv("CLIMB_HUGGINGFACE_URL", hostile.url)
    monkeypatch.setenv("HF_TOKEN", "hf_loop")
    listing = [{"type": "file", "path": "a.bin", "size": 3}]
    hostile.route("/api/datasets/org/ds/tree/r", 200, json.dumps(listing).encode())
    hostile.route("/datasets/org/ds/resolve/r/a.bin", 200, b"abc")
    src = Source(kind="huggingface", id="org/ds", version="r", repo_type="dataset")
    fetch(card("lb", (src,)), root)
    assert (root / "raw" / "lb" / "a.bin").read_bytes() == b"abc"
    assert hostile.requests("/tree/")[0]["headers"].get("Authorization") == "Bearer hf_loop"


# ------------------------------------------------------------------ cross-host redirects
def test_cross_host_redirect_drops_credentials(
    env: dict, root: Path, hostile: Hostile, hostile2: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIMB_HUGGINGFACE_URL", hostile.url)
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token")
    listing = [{"type": "file", "path": "a.bin", "size": 3}]
    hostile.route("/api/datasets/org/ds/tree/r", 200, json.dumps(listing).encode())
    hostile.route(
        "/datasets/org/ds/resolve/r/a.bin", 302, b"", Location=f"{hostile2.url}/cdn/a.bin"
    )
    hostile2.route("/cdn/a.bin", 200, b"abc")
    src = Source(kind="huggingface", id="org/ds", version="r", repo_type="dataset")
    fetch(card("rd", (src,)), root)
    assert (root / "raw" / "rd" / "a.bin").read_bytes() == b"abc"
    assert hostile.requests("/resolve/")[0]["headers"].get("Authorization")
    other = hostile2.requests("/cdn/")
    assert other and all("Authorization" not in r["headers"] for r in other)
    assert all("hf_secret_token" not in json.dumps(r) for r in other)


@pytest.mark.parametrize(
    "listing",
    [
        [{"type": "file", "path": 123, "size": 3}],
        [{"type": "file", "path": "a.bin", "size": "many", "lfs": "nope"}],
        ["not-an-object"],
    ],
)
def test_malformed_listing_is_a_clear_error(
    env: dict, root: Path, hostile: Hostile, monkeypatch: pytest.MonkeyPatch, listing: list
) -> None:
    monkeypatch.setenv("CLIMB_HUGGINGFACE_URL", hostile.url)
    hostile.route("/api/datasets/org/ds/tree/r", 200, json.dumps(listing).encode())
    src = Source(kind="huggingface", id="org/ds", version="r", repo_type="dataset")
    with pytest.raises(ClimbError) as e:
        fetch(card("ml", (src,)), root)
    assert "Hugging Face dataset org/ds@r" in e.value.render()
    assert hostile.requests("/resolve/") == []
