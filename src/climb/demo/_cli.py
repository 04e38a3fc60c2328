"""`climb demo`: until the demo issue lands, it shows the catalog overview."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo", rich_help_panel="Catalog")
    def demo() -> None:
        """Run the main job on the built-in demo corpus (today: the catalog overview)."""
        from rich.panel import Panel

        from climb import catalog
        from climb.cli import ListFormat, StatsFormat, datasets_list, datasets_stats
        from climb.console import stdout_console
        from climb.registry import keys

        console = stdout_console()
        console.print(
            Panel.fit(
                f"climb knows {len(keys())} datasets of the CLIMB benchmark across "
                f"{len(catalog.stats())} domains.\n"
                "The end-to-end demo (fetch → prepare → train → evaluate → report) arrives with "
                "the demo issue; today the demo shows the catalog.\n"
                "Next: 'climb datasets show ptbxl', 'climb datasets list --domain ecg'.",
                title="climb demo",
            )
        )
        datasets_stats(fmt=StatsFormat.table)
        datasets_list(domain=None, access=None, fmt=ListFormat.table)
