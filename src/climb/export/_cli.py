"""`climb export STORE_OR_KEY --format qa-jsonl|hf|webdataset --out DIR`."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer


class ExportFormat(StrEnum):
    qa_jsonl = "qa-jsonl"
    hf = "hf"
    webdataset = "webdataset"


def register(app: typer.Typer) -> None:
    @app.command("export", rich_help_panel="Data")
    def export(
        store: str = typer.Argument(..., help="Store directory, fsspec URL or dataset key."),
        fmt: ExportFormat = typer.Option(..., "--format", "-f", help="Output format."),
        out: Path = typer.Option(..., "--out", "-o", help="Output directory (created)."),
        task: list[str] = typer.Option(
            None, "--task", "-t", help="Only this task (repeatable; default: every task)."
        ),
        split: list[str] = typer.Option(
            None, "--split", "-s", help="Only this split (repeatable; default: every split)."
        ),
        field: list[str] = typer.Option(
            None, "--field", help="Only this field (repeatable; default: every exportable field)."
        ),
        root: Path | None = typer.Option(None, "--root", help="Data root (default $CLIMB_ROOT)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out."),
        shard_size: int = typer.Option(1000, "--shard-size", help="Samples per webdataset shard."),
        workers: int | None = typer.Option(
            None,
            "--workers",
            "-j",
            help="Threads encoding media (default 1; more helps on idle cores).",
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON line."),
    ) -> None:
        """Export a prepared store for vision-language / RL trainers (licence terms travel along)."""
        from climb.core.console import stderr_console
        from climb.export import export_store, resolve_store

        err = stderr_console()
        s = resolve_store(store, root)

        def echo(msg: str) -> None:
            err.print(f"[bold yellow]{msg}[/]", markup=True, highlight=False)

        if quiet or not err.is_terminal:
            result = export_store(
                s,
                fmt.value,
                out,
                tasks=task or None,
                splits=split or None,
                fields=field or None,
                overwrite=overwrite,
                shard_size=shard_size,
                workers=workers,
                echo=echo,
            )
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
            ) as bar:
                job = bar.add_task(f"export {s.key} → {fmt.value}", total=None)
                result = export_store(
                    s,
                    fmt.value,
                    out,
                    tasks=task or None,
                    splits=split or None,
                    fields=field or None,
                    overwrite=overwrite,
                    shard_size=shard_size,
                    workers=workers,
                    echo=echo,
                    progress=lambda done, total: bar.update(job, completed=done, total=total),
                )
        if as_json:
            typer.echo(json.dumps({"out": str(result.out), **result.to_dict()}))
            return
        typer.echo(
            f"wrote {result.rows} {'rows' if fmt is ExportFormat.qa_jsonl else 'samples'} "
            f"({', '.join(f'{k} {v}' for k, v in result.written.items())}) to {result.out} "
            f"in {result.seconds:.1f} s; quarantined {result.quarantined}"
        )
        missing = {k: v for k, v in result.skipped.items() if v}
        if missing:
            typer.echo(f"labels missing (not asked): {missing}")
