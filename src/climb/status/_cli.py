"""`climb status [KEY...]`: where each dataset stands, as a table or JSON."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("status", rich_help_panel="Data")
    def status(
        keys: list[str] = typer.Argument(None, help="Dataset keys (default: all)."),
        root: str | None = typer.Option(
            None,
            "--root",
            help="Data root (default $CLIMB_ROOT, else ~/climb-data); may be s3://BUCKET/PREFIX.",
        ),
        raw_root: str | None = typer.Option(
            None, "--raw-root", help="Where raw/ and runs/ are, when --root is a URL."
        ),
        fmt: str = typer.Option("table", "--format", help="table | json"),
        json_: bool = typer.Option(False, "--json", help="Same as --format json."),
        fast: bool = typer.Option(
            False, "--fast", help="Skip the staleness check (it lists every raw file)."
        ),
        only_present: bool = typer.Option(
            False, "--present", help="Only datasets with raw files or a store."
        ),
    ) -> None:
        """Access, fetched (files, bytes, verified), prepared (samples, quarantined, size),
        stale, last runs — per dataset."""
        import json

        from climb.core.errors import ClimbError
        from climb.status.api import dataset_status, human_bytes

        if fmt not in ("table", "json"):
            raise ClimbError(f"unknown --format {fmt!r}", fix="use table or json")
        rows = dataset_status(keys or None, root, raw_root=raw_root, check_stale=not fast)
        if only_present:
            rows = [r for r in rows if r.fetched or r.prepared or r.incomplete]
        if json_ or fmt == "json":
            typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
            return
        from rich.table import Table

        from climb.core.console import stdout_console

        t = Table(title=f"climb status ({root or 'local data root'})")
        for col in (
            "dataset",
            "access",
            "fetched",
            "verified",
            "prepared",
            "samples",
            "quar.",
            "store",
            "stale",
            "last run",
        ):
            t.add_column(col, justify="right" if col in ("samples", "quar.", "store") else "left")
        for r in rows:
            fetched = f"{r.raw_files:,} files, {human_bytes(r.raw_bytes)}" if r.fetched else "-"
            verified = {True: "yes", False: "NO", None: "-"}[r.verified]
            prepared = "yes" if r.prepared else ("INCOMPLETE" if r.incomplete else "-")
            stale = {True: f"STALE ({r.stale_reason})", False: "fresh", None: "-"}[r.stale]
            last = (
                (r.runs[0]["run"] + ("" if r.runs[0]["finished"] else " (unfinished)"))
                if r.runs
                else "-"
            )
            t.add_row(
                r.key,
                r.access,
                fetched,
                verified,
                prepared,
                f"{r.samples:,}" if r.samples is not None else "-",
                f"{r.quarantined:,}" if r.quarantined is not None else "-",
                human_bytes(r.store_bytes),
                stale if r.prepared else "-",
                last,
            )
        stdout_console().print(t)
