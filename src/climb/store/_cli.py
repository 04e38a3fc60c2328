"""`climb store info PATH` and `climb store validate PATH`."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def register(app: typer.Typer) -> None:
    store_app = typer.Typer(help="Inspect and validate unified stores.", no_args_is_help=True)
    app.add_typer(store_app, name="store", rich_help_panel="Data")

    @store_app.command("info")
    def info(
        path: str = typer.Argument(..., help="Store directory or fsspec URL."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Fields, shapes, tasks, label counts per split, size."""
        from climb.store import open_store

        s = open_store(path)
        m = s.meta
        size = None if s.is_remote else _size(Path(s.url))
        q = s.quarantine()
        if as_json:
            out = {
                k: m.get(k)
                for k in (
                    "key",
                    "num_samples",
                    "fields",
                    "tasks",
                    "splits",
                    "label_counts",
                    "fingerprint",
                    "content_hash",
                )
            }
            out.update(size_bytes=size, quarantined=len(q))
            typer.echo(json.dumps(out, indent=2, default=str))
            return
        from rich.table import Table

        from climb.core.console import stdout_console

        con = stdout_console()
        con.print(f"[bold]{m['key']}[/]  {s.url}")
        con.print(
            f"samples: {m['num_samples']:,}   quarantined: {len(q)}   size: "
            + (f"{size / 1e6:.1f} MB" if size is not None else "(remote)")
        )
        sp = m.get("splits", {})
        con.print(
            f"splits ({sp.get('rule')}, seed {sp.get('seed')}): {sp.get('counts')}  "
            f"leakage check: {sp.get('leakage_check')}"
        )
        ft = Table("field", "dtype", "shape/sample", "unit", "Hz", "chunk", "on disk")
        for name, f in m["fields"].items():
            ft.add_row(
                name,
                f["dtype"],
                str(tuple(f.get("shape") or f.get("inner_shape") or ())),
                str(f.get("unit")),
                str(f.get("sampling_rate_hz")),
                str((f.get("chunks") or ["-"])[0]),
                _codec_text(f.get("codec")),
            )
        con.print(ft)
        counts = m.get("label_counts", {})
        for t, spec in m["tasks"].items():
            if spec.get("field"):  # segmentation: the target is an array field
                n_cls = len(spec.get("classes") or [])
                con.print(f"{t} ({spec['type']}): target field {spec['field']!r}, {n_cls} classes")
                continue
            per = counts.get(t, {})
            splits = sorted(per)
            tt = Table(f"{t} ({spec['type']}, policy {spec.get('policy')})", *splits)
            for c in [*spec.get("classes", []), "(missing)"]:
                tt.add_row(c, *[str(per[sp_].get(c, 0)) for sp_ in splits])
            con.print(tt)

    @store_app.command("validate")
    def validate_cmd(
        path: str = typer.Argument(..., help="Store directory or fsspec URL."),
        raw: Path | None = typer.Option(
            None, "--raw", help="Raw folder (default <root>/raw/<key>)."
        ),
        quick: bool = typer.Option(False, "--quick", help="Skip decoding every chunk."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Schema, counts, arrays vs manifest, patient leakage, staleness. Exit 1 on errors."""
        from climb.store.validate import validate

        rep = validate(path, raw_dir=raw, deep=not quick)
        if as_json:
            typer.echo(json.dumps(rep.to_dict(), indent=2))
        else:
            for c in rep.checks:
                typer.echo(f"  checked: {c}")
            for w in rep.warnings:
                typer.echo(f"  warning: {w}")
            for e in rep.errors:
                typer.echo(f"  ERROR: {e}")
            typer.echo(
                ("valid" if rep.ok else "INVALID")
                + ("" if rep.stale is None else (" (stale)" if rep.stale else " (up to date)"))
            )
        if not rep.ok:
            raise typer.Exit(1)


def _codec_text(codec: dict[str, object] | None) -> str:
    """How a field's chunks are stored, e.g. 'int16 (x1000), raw' or 'blosc lz4'."""
    if not codec:
        return "-"
    parts = []
    if codec.get("astype"):
        scale = codec.get("scale")
        parts.append(f"{codec['astype']}" + (f" (x{scale})" if scale else ""))
    name = str(codec.get("name", "blosc"))
    if name == "none":
        parts.append("raw")
    elif name == "blosc":
        parts.append(f"blosc {codec.get('cname', 'zstd')}")
    else:
        parts.append(name)
    return ", ".join(parts)
