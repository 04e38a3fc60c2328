"""`climb report` (a placeholder until its issue lands)."""

from __future__ import annotations

import typer

from climb._stub import not_built


def register(app: typer.Typer) -> None:
    @app.command(
        "report",
        rich_help_panel="Models",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def report(ctx: typer.Context) -> None:
        """Build an HTML/Markdown report from results (not built yet)."""
        raise not_built("report")
