"""`climb evaluate` (a placeholder until its issue lands)."""

from __future__ import annotations

import typer

from climb._stub import not_built


def register(app: typer.Typer) -> None:
    @app.command(
        "evaluate",
        rich_help_panel="Models",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def evaluate(ctx: typer.Context) -> None:
        """Evaluate a run with confidence intervals (not built yet)."""
        raise not_built("evaluate")
