"""`climb prepare` (a placeholder until its issue lands)."""

from __future__ import annotations

import typer

from climb._stub import not_built


def register(app: typer.Typer) -> None:
    @app.command(
        "prepare",
        rich_help_panel="Data",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def prepare(ctx: typer.Context) -> None:
        """Convert raw files into the unified store (not built yet)."""
        raise not_built("prepare")
