"""Credentials for the sources, from the environment, ``~/.netrc`` or a 0600 TOML file.

Order of lookup for each service (first hit wins):

1. environment variables (``PHYSIONET_USERNAME``/``PHYSIONET_PASSWORD``,
   ``KAGGLE_USERNAME``/``KAGGLE_KEY`` or ``KAGGLE_API_TOKEN``, ``HF_TOKEN``, ``GITHUB_TOKEN``,
   ``ZENODO_TOKEN``);
2. ``<config dir>/credentials.toml`` (refused unless its mode is 0600), one table per service::

       [physionet]
       username = "me"
       password = "..."

3. the service's own file (``~/.kaggle/kaggle.json``, the Hugging Face token file);
4. ``~/.netrc`` (``$NETRC``), looked up by the host of the service's base URL;
5. an interactive prompt, only when stdin is a terminal and prompting is allowed.

A secret is wrapped in :class:`Secret`, whose ``repr``/``str`` never show it. Secrets are only
ever put into HTTP headers: never into a URL, a log line, an exception or a command line.
"""

from __future__ import annotations

import json
import netrc
import os
import stat
import sys
import threading
import tomllib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from climb.core.errors import ClimbError
from climb.fetch.config import FetchConfig, config_dir


class CredentialsError(ClimbError):
    """The credentials a source needs are not configured (and no prompt was possible)."""


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``; httpx drops it on redirects to another origin."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


@dataclass(frozen=True, repr=False)
class Credential:
    """One service's credential; ``origin`` says where it came from (never the value)."""

    service: str
    scheme: Literal["basic", "bearer"]
    secret: Secret
    origin: str
    username: str | None = None

    def auth(self) -> httpx.Auth:
        if self.scheme == "basic":
            return httpx.BasicAuth(self.username or "", self.secret.reveal())
        return BearerAuth(self.secret)

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username else ""
        return f"Credential({self.service}, {self.scheme}{user}, from {self.origin})"


#: How each service is authenticated: (scheme, env vars, toml keys, what to set).
SERVICES: dict[str, dict[str, object]] = {
    "physionet": {
        "scheme": "basic",
        "env": ("PHYSIONET_USERNAME", "PHYSIONET_PASSWORD"),
        "toml": ("username", "password"),
        "how": "set PHYSIONET_USERNAME and PHYSIONET_PASSWORD, or add a 'machine physionet.org' "
        "line to ~/.netrc, or a [physionet] table to credentials.toml (mode 0600)",
    },
    "kaggle": {
        "scheme": "basic",
        "env": ("KAGGLE_USERNAME", "KAGGLE_KEY"),
        "toml": ("username", "key"),
        "how": "set KAGGLE_USERNAME and KAGGLE_KEY (or KAGGLE_API_TOKEN), or place the kaggle.json "
        "from https://www.kaggle.com/settings (API, 'Create New Token') at ~/.kaggle/kaggle.json",
    },
    "huggingface": {
        "scheme": "bearer",
        "env": ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
        "toml": ("token",),
        "how": "set HF_TOKEN (create one at https://huggingface.co/settings/tokens) or run "
        "'hf auth login'",
    },
    "github": {
        "scheme": "bearer",
        "env": ("GITHUB_TOKEN", "GH_TOKEN"),
        "toml": ("token",),
        "how": "set GITHUB_TOKEN (optional; raises the API rate limit)",
    },
    "zenodo": {
        "scheme": "bearer",
        "env": ("ZENODO_TOKEN",),
        "toml": ("token",),
        "how": "set ZENODO_TOKEN (optional; only for restricted records)",
    },
}

_BASE_URL_NAME = {
    "physionet": "physionet",
    "kaggle": "kaggle",
    "huggingface": "huggingface",
    "github": "github_api",
    "zenodo": "zenodo",
}


def credentials_file() -> Path:
    return config_dir() / "credentials.toml"


def _load_toml(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise ClimbError(
            f"refusing to read credentials from a file others can read (mode {mode:04o})",
            where=str(path),
            fix=f"run: chmod 600 {path}",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        # the parser's message could quote a secret: say only where
        raise ClimbError(
            "cannot parse the credentials file (invalid TOML)", where=str(path)
        ) from None
    return {k: v for k, v in data.items() if isinstance(v, dict)}


class Credentials:
    """Looks up (and caches) credentials for each service; optionally prompts on a terminal."""

    def __init__(
        self,
        config: FetchConfig,
        *,
        env: dict[str, str] | None = None,
        allow_prompt: bool | None = None,
    ) -> None:
        self.config = config
        self.env = dict(os.environ) if env is None else env
        if allow_prompt is None:
            allow_prompt = (
                sys.stdin is not None and sys.stdin.isatty() and not self.env.get("CLIMB_NO_PROMPT")
            )
        self.allow_prompt = allow_prompt
        self._cache: dict[str, Credential | None] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lookup
    def find(self, service: str) -> Credential | None:
        """The credential for ``service``, or None. Never prompts."""
        with self._lock:
            if service not in self._cache:
                self._cache[service] = self._lookup(service)
            return self._cache[service]

    def how(self, service: str) -> str:
        return self.how_static(service)

    @staticmethod
    def how_static(service: str) -> str:
        return str(SERVICES.get(service, {}).get("how", "no credentials are needed"))

    def require(self, service: str, *, why: str, where: str) -> Credential:
        """The credential, or (on a terminal) a prompt, or a clear error saying what to set."""
        cred = self.find(service)
        if cred is not None:
            return cred
        if self.allow_prompt and SERVICES.get(service, {}).get("scheme") == "basic":
            cred = self._prompt(service)
            if cred is not None:
                with self._lock:
                    self._cache[service] = cred
                return cred
        raise CredentialsError(
            f"{service} credentials are needed: {why}",
            where=where,
            fix=self.how(service),
        )

    def _lookup(self, service: str) -> Credential | None:
        spec = SERVICES.get(service)
        if spec is None:
            return None
        scheme = str(spec["scheme"])
        env_names = tuple(spec["env"])  # type: ignore[arg-type]
        # 1. environment
        if service == "kaggle" and self.env.get("KAGGLE_API_TOKEN"):
            token = self.env["KAGGLE_API_TOKEN"].strip()
            if os.path.isfile(token):
                token = Path(token).read_text(encoding="utf-8").strip()
            return Credential(service, "bearer", Secret(token), "environment KAGGLE_API_TOKEN")
        if scheme == "basic":
            user, pw = (self.env.get(n, "") for n in env_names)
            if user and pw:
                return Credential(service, "basic", Secret(pw), f"environment {env_names[1]}", user)
        else:
            for name in env_names:
                if self.env.get(name):
                    return Credential(
                        service, "bearer", Secret(self.env[name].strip()), f"environment {name}"
                    )
        # 2. credentials.toml
        path = credentials_file()
        table = _load_toml(path).get(service, {})
        keys = tuple(spec["toml"])  # type: ignore[arg-type]
        if scheme == "basic" and table.get(keys[0]) and table.get(keys[1]):
            return Credential(
                service, "basic", Secret(str(table[keys[1]])), str(path), str(table[keys[0]])
            )
        if scheme == "bearer" and table.get(keys[0]):
            return Credential(service, "bearer", Secret(str(table[keys[0]])), str(path))
        # 3. the service's own files
        own = self._service_file(service)
        if own is not None:
            return own
        # 4. netrc
        return self._netrc(service, scheme)

    def _service_file(self, service: str) -> Credential | None:
        if service == "kaggle":
            base = self.env.get("KAGGLE_CONFIG_DIR") or str(Path("~/.kaggle").expanduser())
            path = Path(base) / "kaggle.json"
            if path.is_file():
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise ClimbError(
                        "cannot parse kaggle.json (invalid JSON)", where=str(path)
                    ) from None
                if data.get("username") and data.get("key"):
                    return Credential(
                        service, "basic", Secret(str(data["key"])), str(path), str(data["username"])
                    )
        if service == "huggingface":
            path_s = self.env.get("HF_TOKEN_PATH") or os.path.join(
                self.env.get("HF_HOME") or str(Path("~/.cache/huggingface").expanduser()), "token"
            )
            path = Path(path_s)
            if path.is_file():
                token = path.read_text(encoding="utf-8").strip()
                if token:
                    return Credential(service, "bearer", Secret(token), str(path))
        return None

    def _netrc(self, service: str, scheme: str) -> Credential | None:
        name = _BASE_URL_NAME.get(service)
        if name is None:
            return None
        host = urlsplit(self.config.url(name)).hostname or ""
        path = Path(self.env.get("NETRC") or Path("~/.netrc").expanduser())
        if not path.is_file():
            return None
        try:
            entry = netrc.netrc(str(path)).authenticators(host)
        except (netrc.NetrcParseError, OSError):
            raise ClimbError(
                "cannot parse the netrc file",
                where=str(path),
                fix="check its syntax and that its mode is 0600",
            ) from None
        if not entry:
            return None
        login, _account, password = entry
        if not password:
            return None
        origin = f"{path} (machine {host})"
        if scheme == "basic":
            return Credential(service, "basic", Secret(password), origin, login)
        return Credential(service, "bearer", Secret(password), origin)

    def _prompt(self, service: str) -> Credential | None:  # pragma: no cover - needs a terminal
        import getpass

        print(f"climb: {service} credentials (input hidden for the password)", file=sys.stderr)
        try:
            user = input(f"{service} username: ").strip()
            pw = getpass.getpass(f"{service} password: ")
        except (EOFError, KeyboardInterrupt):
            return None
        if not user or not pw:
            return None
        return Credential(service, "basic", Secret(pw), "prompt", user)


def require_secure(url: str, service: str) -> None:
    """Refuse to send credentials over plain HTTP except to a loopback address: the engine's
    one rule (:func:`climb.fetch.engine.require_secure`), which checks every credentialed
    request; kept here for callers that check a base URL early."""
    from climb.fetch.engine import require_secure as _rule

    _rule(url, f"{service} credentials")
