"""`climb report RESULTS... --out DIR`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("report", rich_help_panel="Models")
    def report(
        results: list[Path] = typer.Argument(
            ..., help="Run directories, folders of runs, or results.parquet files."
        ),
        out: Path = typer.Option(Path("climb-report"), "--out", "-o", help="Report folder."),
        title: str = typer.Option("climb report", "--title", help="Page title."),
        metric: str = typer.Option("auroc", "--metric", help="Metric of the tables and figures."),
        split: str = typer.Option("test", "--split", help="Split of the tables and figures."),
        stores: Path | None = typer.Option(
            None, "--stores", help="Also describe every store in this folder (composition)."
        ),
    ) -> None:
        """Build index.html (self-contained, figures embedded) and report.md from results."""
        from climb.report.build import build_report

        index = build_report(
            list(results), out, title=title, metric=metric, split=split, stores=stores
        )
        typer.echo(f"report: {index.resolve()}")
        typer.echo(f"markdown: {(index.parent / 'report.md').resolve()}")
