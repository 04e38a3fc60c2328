"""`climb demo`: the main job end to end on the built-in demo corpus, offline."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo", rich_help_panel="Demo")
    def demo(
        out: Path = typer.Option(
            Path("climb-demo"),
            "--out",
            "-o",
            help="Demo folder (corpus, data root, runs, report); default ./climb-demo.",
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the corpus, splits and training."),
        quick: bool = typer.Option(
            False, "--quick", help="Smaller corpus and shorter training (about 2 minutes)."
        ),
        open_: bool = typer.Option(
            False, "--open", help="Open the report in a browser when there is one."
        ),
    ) -> None:
        """Run the main job offline on a built-in synthetic corpus (docs/demo.md).

        Generates small datasets in native layouts, serves them on 127.0.0.1, then fetches,
        prepares, trains (single-task, multitask, few-shot), evaluates and reports."""
        from climb.demo.run import run_demo

        res = run_demo(out, seed=seed, quick=quick, open_browser=open_)
        secs = ", ".join(f"{k} {v:.0f} s" for k, v in res.seconds.items())
        typer.echo(f"timings: {secs}")
        typer.echo(f"report: {res.report}")
