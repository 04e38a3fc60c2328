"""`climb fetch`, `climb verify`, `climb access`. Heavy imports stay inside the commands."""

from __future__ import annotations

from pathlib import Path

import typer


def _exit(code: int) -> None:
    if code:
        raise typer.Exit(code)  # climb.cli.main turns it into the process's exit status


def register(app: typer.Typer) -> None:
    @app.command("fetch", rich_help_panel="Data")
    def fetch(
        keys: list[str] = typer.Argument(..., help="Dataset keys (see 'climb datasets list')."),
        root: Path | None = typer.Option(
            None, "--root", help="Data root (default: $CLIMB_ROOT, else ~/climb-data)."
        ),
        include: list[str] = typer.Option(
            [], "--include", help="Only files matching this glob (repeatable)."
        ),
        exclude: list[str] = typer.Option([], "--exclude", help="Skip files matching this glob."),
        source: list[str] = typer.Option(
            [],
            "--source",
            help="Fetch exactly these sources (repeatable): a number as 'climb datasets show' "
            "lists them, a kind (physionet, kaggle, ...) or an id. Default: every source but "
            "the alternate copies.",
        ),
        workers: int | None = typer.Option(
            None, "--workers", "-j", min=1, help="Parallel downloads."
        ),
        dry_run: bool = typer.Option(False, "--dry-run", help="List files and total size only."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
        wait: bool = typer.Option(
            False,
            "--wait",
            help="If another fetch of a dataset is running, wait for it instead of exiting "
            "with an error.",
        ),
    ) -> None:
        """Download datasets into <root>/raw/<key>/, verified and resumable."""
        from climb.fetch._commands import run_fetch

        _exit(
            run_fetch(
                keys,
                root,
                tuple(include),
                tuple(exclude),
                workers,
                dry_run,
                quiet,
                tuple(source),
                wait,
            )
        )

    @app.command("verify", rich_help_panel="Data")
    def verify(
        key: str = typer.Argument(..., help="Dataset key."),
        root: Path | None = typer.Option(None, "--root", help="Data root."),
    ) -> None:
        """Re-hash downloaded files; report missing, corrupt and extra files (exit 1 if any)."""
        from climb.fetch._commands import run_verify

        _exit(run_verify(key, root))

    @app.command("access", rich_help_panel="Data")
    def access(
        key: str = typer.Argument(None, help="Dataset key (default: every dataset)."),
    ) -> None:
        """What access each dataset needs, whether credentials are configured, how to get access."""
        from climb.fetch._commands import run_access

        _exit(run_access(key))
