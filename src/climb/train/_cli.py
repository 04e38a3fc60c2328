"""`climb train CONFIG.yaml [--out RUN_DIR] [--set key=value ...] [--resume]`."""

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
    ) -> None:
        """Train models from a YAML config; evaluates on the test split at the end.

        Single-task, multitask, linear probe, fine-tune, few-shot, graph tasks (kind:
        graph) and 2-D segmentation masks (kind: segmentation). Works under torchrun (DDP)."""
        from climb.errors import ClimbError
        from climb.train.config import load_config
        from climb.train.loop import train as run_train

        if resume and out is None:
            raise ClimbError(
                "--resume needs --out RUN_DIR", fix="pass the run directory to continue"
            )
        from climb.train.graph import is_graph_config
        from climb.train.segmentation import is_segmentation_config

        kind = (
            "graph"
            if is_graph_config(config)
            else "segmentation"
            if is_segmentation_config(config)
            else None
        )
        if kind and (resume or no_eval):
            flag = "--resume" if resume else "--no-eval"
            raise ClimbError(
                f"{flag} is not supported for 'kind: {kind}' configs (their trainer always "
                "trains from the start and evaluates the test split at the end)",
                where=str(config),
                fix=f"run without {flag}",
            )
        if kind == "graph":  # kind: graph -> graph/node tasks (climb.train.graph)
            from climb.train.graph import load_graph_config, train_graph

            typer.echo(f"run directory: {train_graph(load_graph_config(config, overrides), out)}")
            return
        if kind == "segmentation":  # kind: segmentation -> climb.train.segmentation
            from climb.train.segmentation import load_segmentation_config as lsc
            from climb.train.segmentation import train_segmentation

            typer.echo(f"run directory: {train_segmentation(lsc(config, overrides), out)}")
            return
        cfg = load_config(config, overrides)
        run_dir = run_train(cfg, out, resume=resume, evaluate_at_end=not no_eval)
        typer.echo(f"run directory: {run_dir}")
