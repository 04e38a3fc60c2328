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
    ) -> None:
        """Evaluate a run: metrics with patient-level bootstrap CIs, appended to results.parquet."""
        from climb.errors import ClimbError
        from climb.train.evaluation import evaluate_run

        cfg_file = run_dir / "config.yaml"
        if cfg_file.is_file():
            import yaml

            try:
                kind = (yaml.safe_load(cfg_file.read_text(encoding="utf-8")) or {}).get("kind")
            except (yaml.YAMLError, AttributeError):
                kind = None
            if kind in ("graph", "segmentation"):
                raise ClimbError(
                    f"{run_dir} is a 'kind: {kind}' run: its trainer evaluated the test split "
                    "at the end of training, and 'climb evaluate' cannot re-evaluate it",
                    where=str(cfg_file),
                    fix=f"read {run_dir / 'results.parquet'} or run 'climb report {run_dir}'",
                )
        if checkpoint not in (None, "best", "last"):
            raise ClimbError(f"bad --checkpoint {checkpoint!r}", fix="use best or last")
        evaluate_run(
            run_dir, splits=split or None, checkpoint=checkpoint, device=device, n_boot=n_boot
        )
