"""`climb evaluate RUN_DIR [--split test]`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("evaluate", rich_help_panel="Models")
    def evaluate(
        run_dir: Path = typer.Argument(..., help="A run directory written by 'climb train'."),
        split: list[str] = typer.Option(
            [], "--split", help="Split(s) to evaluate (repeatable; default: the config's)."
        ),
        checkpoint: str | None = typer.Option(None, "--checkpoint", help="best or last."),
        device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda, mps."),
        n_boot: int | None = typer.Option(None, "--n-boot", help="Bootstrap replicates."),
        verify: bool = typer.Option(
            False, "--verify", help="Check each store file's sha256 the first time it is read."
        ),
        root: str | None = typer.Option(
            None,
            "--root",
            help="Read the stores from this data root (a folder or s3://BUCKET/PREFIX) instead "
            "of the run's data.root.",
        ),
    ) -> None:
        """Evaluate a run: metrics with patient-level bootstrap CIs, appended to results.parquet."""
        from climb.core.errors import ClimbError
        from climb.evaluate.run import evaluate_run

        if checkpoint not in (None, "best", "last"):
            raise ClimbError(f"bad --checkpoint {checkpoint!r}", fix="use best or last")
        from climb.data import verify_env

        with verify_env(verify):
            evaluate_run(
                run_dir,
                splits=split or None,
                checkpoint=checkpoint,
                device=device,
                n_boot=n_boot,
                root=root,
            )
