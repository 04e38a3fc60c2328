"""The ``climb`` command: one sub-command per pipeline stage.

    catalog → fetch → prepare → store → data (torch) → train → evaluate → report

Each stage's commands live next to its code (``climb/<stage>/_cli.py``) and are attached here;
heavy libraries are imported inside the commands so that ``climb --help`` stays fast.
"""

from __future__ import annotations

import importlib
import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from climb import __version__
from climb.core.errors import ClimbError

app = typer.Typer(
    name="climb",
    help=(
        "climb: the CLIMB clinical benchmark as one consistent, fast, verifiable data foundation.\n\n"
        "Pipeline: datasets → fetch → verify/access → prepare → store → train → evaluate → report. "
        "'climb demo' runs the main job on the built-in demo corpus."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"climb {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """climb command line."""


# ----------------------------------------------------------------------------- datasets

datasets_app = typer.Typer(
    help="Browse the catalog: every dataset of the CLIMB benchmark, as data.",
    no_args_is_help=True,
)
app.add_typer(datasets_app, name="datasets", rich_help_panel="Catalog")


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class ShowFormat(StrEnum):
    text = "text"
    json = "json"


class StatsFormat(StrEnum):
    table = "table"
    json = "json"


@datasets_app.command("list")
def datasets_list(
    domain: str | None = typer.Option(None, "--domain", "-d", help="Only this domain (e.g. ecg)."),
    access: str | None = typer.Option(
        None,
        "--access",
        "-a",
        help="Only this access level (open, registration, credentialed, dua, competition).",
    ),
    fmt: ListFormat = typer.Option(ListFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """List datasets (a table by default; --format json gives the full cards)."""
    from climb import catalog
    from climb.registry import cards

    selected = cards(domain=domain, access=access)
    if fmt is ListFormat.json:
        typer.echo(catalog.to_json(selected))
        return
    if fmt is ListFormat.csv:
        typer.echo(catalog.to_csv(selected), nl=False)
        return
    from rich.table import Table

    from climb.core.console import stdout_console

    table = Table(title=f"climb datasets ({len(selected)})", show_lines=False)
    for col in catalog.LIST_COLUMNS:
        table.add_column(
            col, justify="right" if col in ("samples", "size") else "left", overflow="fold"
        )
    for c in selected:
        row = catalog.list_row(c)
        table.add_row(*(row[col] for col in catalog.LIST_COLUMNS))
    stdout_console().print(table)


@datasets_app.command("show")
def datasets_show(
    key: str = typer.Argument(..., help="Dataset key, e.g. ptbxl."),
    fmt: ShowFormat = typer.Option(ShowFormat.text, "--format", "-f", help="Output format."),
) -> None:
    """Show one dataset's card."""
    from climb import catalog
    from climb.registry import get_card

    card = get_card(key)
    if fmt is ShowFormat.json:
        typer.echo(json.dumps(card.to_dict(), indent=2, ensure_ascii=False))
        return
    from rich.markdown import Markdown

    from climb.core.console import stdout_console

    console = stdout_console()
    if console.is_terminal:
        console.print(Markdown(catalog.card_text(card)))
    else:
        typer.echo(catalog.card_text(card))


@datasets_app.command("stats")
def datasets_stats(
    fmt: StatsFormat = typer.Option(StatsFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """Totals per domain (datasets, samples, known size), like the paper's composition figure."""
    from climb import catalog

    rows = catalog.stats()
    total = catalog.stats_totals(rows)
    if fmt is StatsFormat.json:
        typer.echo(json.dumps({"domains": rows, "total": total}, indent=2))
        return
    from rich.table import Table

    from climb.core.console import stdout_console

    table = Table(title="climb catalog by domain")
    for col, just in (
        ("domain", "left"),
        ("datasets", "right"),
        ("samples", "right"),
        ("known size", "right"),
        ("share of samples", "right"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    grand = max(total["samples"], 1)
    for r in [*rows, total]:
        unknown = f" (+{r['size_unknown']} unknown)" if r["size_unknown"] else ""
        table.add_row(
            r["title"],
            str(r["datasets"]),
            f"{r['samples']:,}",
            catalog.human_bytes(r["size_bytes"] or None) + unknown,
            f"{100 * r['samples'] / grand:.1f}%",
            end_section=r is rows[-1],
        )
    stdout_console().print(table)


@datasets_app.command("docs")
def datasets_docs(
    out: Path = typer.Option(
        Path("docs/datasets.md"), "--out", "-o", help="Where to write the page."
    ),
    check: bool = typer.Option(
        False, "--check", help="Exit 1 if the file is out of date; write nothing."
    ),
) -> None:
    """Generate docs/datasets.md (one section per dataset) from the cards."""
    from climb.catalog import datasets_markdown

    text = datasets_markdown()
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            raise ClimbError(
                f"{out} is out of date with the dataset cards",
                fix="run 'make docs' (climb datasets docs --out docs/datasets.md) and commit the result",
            )
        typer.echo(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out} ({len(text.splitlines())} lines)")


# ----------------------------------------------------------------------------- other stages

# Each module exposes ``register(app)`` and keeps heavy imports inside its commands.
_STAGE_MODULES = (
    "climb.fetch._cli",
    "climb.prepare._cli",
    "climb.store._cli",
    "climb.status._cli",
    "climb.train._cli",
    "climb.evaluate._cli",
    "climb.export._cli",
    "climb.report._cli",
    "climb.demo._cli",
)
for _mod in _STAGE_MODULES:
    importlib.import_module(_mod).register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; print ClimbErrors as clear messages without a traceback."""
    try:
        # standalone_mode=False: click returns a command's exit code (typer.Exit / ctx.exit)
        # instead of exiting; pass it on here, once for every command
        rc = app(args=argv, standalone_mode=False)
    except ClimbError as exc:
        from climb.core.console import stderr_console

        console = stderr_console()
        console.print("[bold red]error:[/]", end=" ")
        console.print(exc.render(), markup=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("\nclimb: interrupted; nothing partial was kept at a final path.", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("climb: aborted", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(rc, int) and not isinstance(rc, bool) and rc:
        sys.exit(rc)


if __name__ == "__main__":
    main()
