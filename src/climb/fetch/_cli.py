"""`climb fetch`, `climb verify`, `climb access` (placeholders until the fetch issue lands)."""

from __future__ import annotations

import typer

from climb._stub import not_built


def register(app: typer.Typer) -> None:
    @app.command("fetch", rich_help_panel="Data")
    def fetch(keys: list[str] = typer.Argument(None, help="Dataset keys.")) -> None:
        """Download datasets into <root>/raw/<key>/ (not built yet)."""
        raise not_built("fetch")

    @app.command("verify", rich_help_panel="Data")
    def verify(key: str = typer.Argument(None, help="Dataset key.")) -> None:
        """Re-hash downloaded files against published checksums (not built yet)."""
        raise not_built("verify")

    @app.command("access", rich_help_panel="Data")
    def access(key: str = typer.Argument(None, help="Dataset key.")) -> None:
        """What access each dataset needs and how to get it (not built yet)."""
        raise not_built("access")
