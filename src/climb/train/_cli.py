"""`climb train CONFIG.yaml [--out RUN_DIR] [--set key=value ...] [--resume] [--no-eval]`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("train", rich_help_panel="Models")
    def train(
        config: Path = typer.Argument(..., help="YAML config (see configs/ and docs/training.md)."),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="Run directory (default <root>/runs/<run.name>)."
        ),
        overrides: list[str] = typer.Option(
            [], "--set", "-s", help="Override a config key: --set optim.lr=3e-4 (repeatable)."
        ),
        resume: bool = typer.Option(
            False, "--resume", help="Continue the run in --out from its last checkpoint."
        ),
        no_eval: bool = typer.Option(False, "--no-eval", help="Skip the evaluation at the end."),
        root: str | None = typer.Option(
            None,
            "--root",
            help="Data root holding stores/ (a folder or s3://BUCKET/PREFIX; the same as --set "
            "data.root=...). With an object-storage root, pass --out.",
        ),
        verify: bool = typer.Option(
            False,
            "--verify",
            help="Check each store file's sha256 against the store's checksums.json the first "
            "time it is read (flipped bytes or an edited label are an error naming the file).",
        ),
    ) -> None:
        """Train models from a YAML config; evaluates on the test split at the end.

        One trainer for every task kind the stores declare (binary, multiclass, multilabel,
        regression, segmentation, graph and node tasks) and every mode (single-task, multitask,
        linear probe, fine-tune, few-shot, k-fold cross-validation, multi-field fusion).
        Works under torchrun (DDP)."""
        from climb.core.errors import ClimbError
        from climb.experiment.config import load_config
        from climb.train.trainer import train as run_train

        if resume and out is None:
            raise ClimbError(
                "--resume needs --out RUN_DIR", fix="pass the run directory to continue"
            )
        if root is not None:
            overrides = [*overrides, f"data.root={root}"]
        cfg = load_config(config, overrides)
        from climb.data import verify_env

        with verify_env(verify):  # every store opened by this run and its loader workers
            run_dir = run_train(cfg, out, resume=resume, evaluate_at_end=not no_eval)
        typer.echo(f"run directory: {run_dir}")
