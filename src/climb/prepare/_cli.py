"""`climb prepare KEY`: raw files -> unified store."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("prepare", rich_help_panel="Data")
    def prepare(
        key: str = typer.Argument(..., help="Dataset key (climb datasets list)."),
        root: str | None = typer.Option(
            None,
            "--root",
            help="Data root (default $CLIMB_ROOT, else ~/climb-data); may be s3://BUCKET/PREFIX "
            "(any fsspec URL): the store is written there (docs/scaling.md).",
        ),
        raw_root: Path | None = typer.Option(
            None,
            "--raw-root",
            help="Where raw/KEY/ is read from, when it is not under --root (e.g. with an s3:// "
            "root; default then: $CLIMB_ROOT if local, else ~/climb-data).",
        ),
        workers: int = typer.Option(
            1, "--workers", "-j", help="Worker processes (Ray: tasks at a time; default: all CPUs)."
        ),
        executor: str = typer.Option(
            "local", "--executor", help="local (process pool) | ray (a Ray cluster)."
        ),
        address: str | None = typer.Option(
            None,
            "--address",
            help="Ray cluster address (HOST:PORT, ray://HOST:PORT or auto); default: a local Ray.",
        ),
        splits: str | None = typer.Option(
            None,
            "--splits",
            help="official | climb | patient (default: official where the source has one, else patient).",
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the patient-level split."),
        label_policy: str = typer.Option(
            "corrected",
            "--label-policy",
            help="corrected (default) | climb (reproduce CLIMB's labels).",
        ),
        option: list[str] = typer.Option(
            [],
            "--option",
            "-O",
            help="Adapter option NAME=VALUE, repeatable: e.g. -O size=224 -O resize=stretch "
            "(images), -O atlas=cc400 (ABIDE), -O window=256 (HuGaDB); docs/prepare.md.",
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
        wait: bool = typer.Option(
            False,
            "--wait",
            help="If another prepare of this dataset is running, wait for it instead of "
            "exiting with an error.",
        ),
    ) -> None:
        """Convert <root>/raw/KEY/ into the unified store <root>/stores/KEY/ (resumable)."""
        from collections import Counter

        params = parse_options(option)

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from climb.core.console import stderr_console
        from climb.core.errors import ClimbError
        from climb.core.paths import raw_dir
        from climb.prepare.executors import EXECUTORS
        from climb.prepare.pipeline import local_root, resolve_adapter
        from climb.prepare.pipeline import prepare as run

        # the cheap checks first, so a wrong key, option or folder is an error without a bar
        adapter = resolve_adapter(key, params)
        raw = raw_dir(adapter.key, raw_root if raw_root is not None else local_root(root))
        if not raw.is_dir():
            raise ClimbError(
                f"no raw data for {adapter.key!r}",
                where=str(raw),
                fix=f"run 'climb fetch {adapter.key}' first (or put the files there), or pass "
                "--root (or --raw-root)",
            )
        if executor not in EXECUTORS:
            raise ClimbError(
                f"unknown executor {executor!r}", fix=f"choose one of: {', '.join(EXECUTORS)}"
            )
        if address and executor != "ray":
            raise ClimbError(
                "--address is for the Ray executor", fix="add --executor ray, or drop --address"
            )
        if executor == "ray" and address and address != "auto":
            from climb.prepare.executors import _check_reachable

            _check_reachable(address)
        con = stderr_console()
        run_args = dict(
            workers=workers,
            splits=splits,
            seed=seed,
            label_policy=label_policy,
            adapter=adapter,
            wait=wait,
            executor=executor,
            address=address,
            raw_root=raw_root,
        )
        if quiet:
            res = run(key, root, **run_args)  # type: ignore[arg-type]
        else:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=con,
                transient=False,
            ) as bar:
                task = bar.add_task(f"prepare {key}", total=None)

                def cb(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                res = run(key, root, progress=cb, **run_args)  # type: ignore[arg-type]
        total = sum(res.counts.values())
        typer.echo(
            f"wrote {res.store} in {res.seconds:.1f} s"
            + (f" (resumed: {res.resumed_units} unit(s) already done)" if res.resumed_units else "")
        )
        typer.echo(
            f"samples: {total:,} ("
            + ", ".join(f"{k} {v:,}" for k, v in sorted(res.counts.items()))
            + ")"
        )
        typer.echo(f"quarantined: {len(res.quarantined):,}")
        for reason, n in Counter(res.reasons).most_common():
            typer.echo(f"  {n:6,}  {reason}")
        for note in res.notes:
            typer.echo(f"note: {note}")


def parse_options(items: list[str]) -> dict[str, object]:
    """``["size=224", "fisher_z=true"]`` -> ``{"size": 224, "fisher_z": True}`` (values parsed
    as YAML scalars: numbers, true/false, null, else strings)."""
    import yaml

    from climb.core.errors import ClimbError

    out: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ClimbError(
                f"bad --option {item!r}",
                fix="write NAME=VALUE, e.g. --option size=224",
            )
        try:
            parsed = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            parsed = value
        out[name] = parsed if isinstance(parsed, (str, int, float, bool, type(None))) else value
    return out
