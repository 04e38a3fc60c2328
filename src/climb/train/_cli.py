"""`climb train` (a placeholder until its issue lands)."""

from __future__ import annotations

import typer

from climb._stub import not_built


def register(app: typer.Typer) -> None:
    @app.command(
        "train",
        rich_help_panel="Models",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def train(ctx: typer.Context) -> None:
        """Train models from a YAML config (not built yet)."""
        raise not_built("train")
