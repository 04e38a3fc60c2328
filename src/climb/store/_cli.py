"""`climb store` (a placeholder until its issue lands)."""

from __future__ import annotations

import typer

from climb._stub import not_built


def register(app: typer.Typer) -> None:
    @app.command(
        "store",
        rich_help_panel="Data",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def store(ctx: typer.Context) -> None:
        """Inspect and validate unified stores (not built yet)."""
        raise not_built("store")
