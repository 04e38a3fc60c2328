"""Fetch settings: base URLs of every source (overridable for mirrors), retries, timeouts.

Precedence, highest first: environment (``CLIMB_<SOURCE>_URL``, ``CLIMB_FETCH_<SETTING>``), the
config file ``<config dir>/config.toml`` (section ``[urls]`` and ``[fetch]``), built-in defaults.
The config dir is ``$CLIMB_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/climb``, else
``~/.config/climb``.

Example ``config.toml``::

    [urls]
    physionet = "https://physionet-mirror.example.org"

    [fetch]
    workers = 16
    retries = 6
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from climb.core.errors import ClimbError

#: Default base URL of every service (what ``CLIMB_<NAME>_URL`` overrides).
DEFAULT_URLS: dict[str, str] = {
    "physionet": "https://physionet.org",
    "kaggle": "https://www.kaggle.com",
    "zenodo": "https://zenodo.org",
    "github": "https://github.com",
    "github_api": "https://api.github.com",
    "github_raw": "https://raw.githubusercontent.com",
    "huggingface": "https://huggingface.co",
    "tcia": "https://nbia.cancerimagingarchive.net",
    # S3 endpoint for url sources on Amazon S3 (bucket folders are listed with ListObjectsV2).
    # Left at this default, each URL's own endpoint (region, virtual host) is used; set to a
    # mirror (an S3-compatible server), every S3 URL is read path-style from it.
    "s3": "https://s3.amazonaws.com",
}


def config_dir() -> Path:
    env = os.environ.get("CLIMB_CONFIG_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME", "").strip()
    if xdg:
        return Path(xdg).expanduser() / "climb"
    return Path("~/.config/climb").expanduser()


@dataclass(frozen=True)
class FetchConfig:
    """Every knob of the download engine. Durations are seconds."""

    urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_URLS))
    workers: int = 8
    retries: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 300.0
    connect_timeout: float = 20.0
    read_timeout: float = 60.0
    chunk_size: int = 1 << 20
    progress_interval: float = 10.0
    manifest_interval: float = 2.0
    max_extract_bytes: int = 8 << 40
    max_extract_ratio: float = 1000.0
    max_extract_members: int = 5_000_000
    verify_tls: bool = True

    def url(self, name: str) -> str:
        return self.urls[name].rstrip("/")

    def with_(self, **changes: Any) -> FetchConfig:
        return replace(self, **changes)


_NUMERIC = {f.name: f.type for f in fields(FetchConfig) if f.name not in ("urls", "verify_tls")}


def _coerce(name: str, value: Any, where: str) -> Any:
    typ = _NUMERIC.get(name)
    if name == "verify_tls":
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() not in ("0", "false", "no", "off")
    if typ is None:
        raise ClimbError(
            f"unknown fetch setting {name!r}",
            where=where,
            fix=f"known settings: {', '.join(sorted([*_NUMERIC, 'verify_tls']))}",
        )
    try:
        return int(value) if typ in ("int", int) else float(value)
    except (TypeError, ValueError):
        raise ClimbError(
            f"fetch setting {name!r} must be a number, got {value!r}", where=where
        ) from None


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> FetchConfig:
    """Build the effective configuration from defaults, the config file and the environment."""
    env = dict(os.environ) if env is None else env
    path = path or config_dir() / "config.toml"
    urls = dict(DEFAULT_URLS)
    settings: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ClimbError(
                f"cannot parse the climb config file: {exc}", where=str(path)
            ) from None
        for name, value in (data.get("urls") or {}).items():
            if name not in DEFAULT_URLS:
                raise ClimbError(
                    f"unknown source {name!r} in [urls]",
                    where=str(path),
                    fix=f"known names: {', '.join(DEFAULT_URLS)}",
                )
            urls[name] = str(value)
        for name, value in (data.get("fetch") or {}).items():
            settings[name] = _coerce(name, value, str(path))
    for name in DEFAULT_URLS:
        value = env.get(f"CLIMB_{name.upper()}_URL", "").strip()
        if value:
            urls[name] = value
    for name in [*_NUMERIC, "verify_tls"]:
        value = env.get(f"CLIMB_FETCH_{name.upper()}", "").strip()
        if value:
            settings[name] = _coerce(name, value, f"environment CLIMB_FETCH_{name.upper()}")
    for name, value in urls.items():
        if not value.startswith(("http://", "https://")):
            raise ClimbError(
                f"base URL for {name} must start with http:// or https://, got {value!r}",
                fix=f"fix CLIMB_{name.upper()}_URL or [urls] {name} in {path}",
            )
    cfg = FetchConfig(urls={k: v.rstrip("/") for k, v in urls.items()}, **settings)
    if cfg.workers < 1:
        raise ClimbError("fetch setting 'workers' must be at least 1", where=str(path))
    return cfg
