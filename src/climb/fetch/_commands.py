"""The bodies of the fetch commands (imported only when a command runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from climb.core.errors import ClimbError
from climb.fetch.progress import human_bytes


def _echo(text: str = "") -> None:
    typer.echo(text)


def run_fetch(
    keys: list[str],
    root: Path | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    workers: int | None,
    dry_run: bool,
    quiet: bool,
    sources: tuple[str, ...] = (),
    wait: bool = False,
) -> int:
    """``sources``: ``--source`` SPECs, applied to every key (see ``api.select_sources``)."""
    from climb.fetch.api import Session, select_sources
    from climb.fetch.config import load_config
    from climb.fetch.progress import make_progress
    from climb.registry import get_card

    cards = [get_card(k) for k in keys]  # unknown keys fail before any download
    for card in cards:  # so do --source SPECs a card does not have
        select_sources(card, sources)
    config = load_config()
    progress = make_progress(config.progress_interval, quiet or dry_run)
    code = 0
    with Session(config, workers=workers, progress=progress) as session:
        for card in cards:
            try:
                if dry_run:
                    _dry_run(session, card, root, include, exclude, sources)
                    continue
                result = session.fetch(card, root, include, exclude, sources, wait=wait)
            except ClimbError as exc:
                if len(cards) == 1:
                    raise
                _report_error(card.key, exc)
                code = code or exc.exit_code
                continue
            s = result.summary
            if s is not None:
                _echo(
                    f"{card.key}: {s.downloaded} downloaded ({human_bytes(s.bytes)})"
                    + (f", {s.extracted} extracted" if s.extracted else "")
                    + f", {s.skipped} already verified -> {result.folder}"
                )
                for path, exc in s.failed[:20]:
                    _report_error(f"{card.key}: {path}", exc)
                if s.failed:
                    _echo(
                        f"{card.key}: {len(s.failed)} file(s) failed; run the same command "
                        "again to retry (it resumes)"
                    )
                    code = code or 1
            _skipped_note(card, result.skipped_alternates)
            if result.manual_ok:
                _echo(f"{card.key}: recorded {result.manual_ok} file(s) you placed")
            for src, missing in result.manual_missing:
                _manual_steps(card.key, src, result.folder, missing)
                code = code or 4
    return code


def _report_error(label: str, exc: ClimbError) -> None:
    from climb.core.console import stderr_console

    console = stderr_console()
    console.print(f"[bold red]error[/] ({label}):", end=" ")
    console.print(exc.render(), markup=False)


def _manual_steps(key: str, src, folder: Path, missing: list[str]) -> None:  # type: ignore[no-untyped-def]
    _echo(f"{key}: this source cannot be downloaded automatically ({src.describe()}).")
    _echo(f"  page: {src.url}")
    _echo("  steps:")
    for line in src.instructions.strip().splitlines():
        _echo(f"    {line.strip()}")
    _echo(f"  place the files in: {folder}")
    if src.expected_layout:
        _echo("  expected layout:")
        for line in src.expected_layout.strip("\n").splitlines():
            _echo(f"    {line}")
    _echo(f"  not found yet: {', '.join(missing)}")
    _echo(f"  then run 'climb fetch {key}' again to verify and record them.")


def _skipped_note(card, skipped: list[int]) -> None:  # type: ignore[no-untyped-def]
    from climb.fetch.api import source_spec

    for i in skipped:
        cmd = f"climb fetch {card.key} --source {source_spec(card, i)}"
        _echo(
            f"{card.key}: skipped source {i + 1}, {card.sources[i].describe()} (an alternate "
            f"copy of the same data); fetch it with '{cmd}'"
        )


def _dry_run(session, card, root, include, exclude, sources=()) -> None:  # type: ignore[no-untyped-def]
    plan = session.plan(card, root, include, exclude, sources)
    _echo(f"{card.key} -> {plan.folder}")
    for f in plan.files:
        size = human_bytes(f.size) if f.size is not None else "?"
        note = "  (archive, extracted)" if f.extract == "yes" else ""
        _echo(f"  {size:>10}  {f.path}{note}")
    for src, folder in plan.manual:
        _echo(f"  {'manual':>10}  {src.describe()} -> {folder}")
    _skipped_note(card, plan.skipped_alternates)
    unknown = f" + {plan.unknown} of unknown size" if plan.unknown else ""
    _echo(f"{card.key}: {len(plan.files)} files, {human_bytes(plan.known_bytes)}{unknown}")


def run_verify(key: str, root: Path | None) -> int:
    from climb.core.paths import raw_dir
    from climb.fetch.api import verify_folder
    from climb.registry import get_card

    card = get_card(key)
    report = verify_folder(card.key, raw_dir(card.key, root))
    for rel in report.missing:
        _echo(f"missing  {rel}")
    for rel, why in report.corrupt:
        _echo(f"corrupt  {rel}: {why}")
    for rel in report.extra:
        _echo(f"extra    {rel}")
    for rel in report.partial:
        _echo(f"partial  {rel} (an interrupted download; 'climb fetch {key}' resumes it)")
    status = "OK" if report.ok else "PROBLEMS"
    _echo(
        f"{key}: {status}: {report.checked} files checked, {len(report.missing)} missing, "
        f"{len(report.corrupt)} corrupt, {len(report.extra)} extra, "
        f"{len(report.partial)} partial"
    )
    return 0 if report.ok else 1


def run_access(key: str | None) -> int:
    from climb.fetch.api import access_info
    from climb.fetch.config import load_config
    from climb.fetch.credentials import Credentials
    from climb.registry import cards, get_card

    config = load_config()
    creds = Credentials(config, allow_prompt=False)
    selected = [get_card(key)] if key else cards()
    for card in selected:
        _echo(f"{card.key} ({card.name}): access = {card.access}")
        for src, info in zip(card.sources, access_info(card, creds, config), strict=True):
            alt = " (alternate copy, fetched only with --source)" if src.alternate else ""
            _echo(f"  - {info.source}{alt}: needs {info.needs}")
            if info.configured is not None:
                state = (
                    f"configured (from {info.origin})"
                    if info.configured
                    else f"NOT configured: {creds.how(info.service or '')}"
                )
                _echo(f"    credentials: {state}")
            if info.page:
                _echo(f"    page: {info.page}")
            for i, step in enumerate(info.steps, 1):
                _echo(f"    {i}. {step}")
    sys.stdout.flush()
    return 0
