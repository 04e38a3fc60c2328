"""Views of the catalog: rows for tables, per-domain statistics, and the generated docs page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from climb.card import DOMAINS, DatasetCard
from climb.registry import cards

DOMAIN_TITLES = {
    "ecg": "ECG",
    "eeg": "EEG",
    "chest_xray": "Chest X-ray",
    "mammography": "Mammography",
    "dermoscopy": "Dermoscopy",
    "fundus": "Fundus",
    "ct": "CT",
    "ultrasound": "Ultrasound",
    "mri": "MRI",
    "brain_network": "Brain networks",
    "molecule": "Molecules",
    "pathology": "Pathology",
    "surgical_video": "Surgical video",
    "imu": "IMU / gait",
    "gene_expression": "Gene expression",
    "multimodal": "Multimodal EHR",
}


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size < 1000 or unit == "PB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def task_summary(card: DatasetCard) -> str:
    parts = []
    for t in card.tasks:
        n = f" ({t.num_classes})" if t.classes else ""
        parts.append(f"{t.name}: {t.type}{n}")
    return "; ".join(parts)


def source_summary(card: DatasetCard) -> str:
    seen: list[str] = []
    for s in card.sources:
        if s.role == "data" and s.kind not in seen:
            seen.append(s.kind)
    return ", ".join(seen) or ", ".join(sorted({s.kind for s in card.sources}))


LIST_COLUMNS = ("key", "name", "domain", "tasks", "samples", "size", "access", "licence", "source")


def list_row(card: DatasetCard) -> dict[str, str]:
    return {
        "key": card.key,
        "name": card.name,
        "domain": card.domain,
        "tasks": task_summary(card),
        "samples": f"{card.samples:,}" if card.samples else "?",
        "size": human_bytes(card.size_bytes),
        "access": card.access,
        "licence": card.licence.id,
        "source": source_summary(card),
    }


def to_csv(selected: Sequence[DatasetCard]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(LIST_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for c in selected:
        row = list_row(c)
        row["samples"] = str(c.samples or "")
        row["size"] = str(c.size_bytes or "")
        writer.writerow(row)
    return buf.getvalue()


def to_json(selected: Sequence[DatasetCard]) -> str:
    return json.dumps([c.to_dict() for c in selected], indent=2, ensure_ascii=False)


def stats(selected: Sequence[DatasetCard] | None = None) -> list[dict[str, Any]]:
    """Totals per domain: datasets, samples, known size (and how many sizes are unknown)."""
    selected = list(selected) if selected is not None else cards()
    out = []
    for d in DOMAINS:
        group = [c for c in selected if c.domain == d]
        if not group:
            continue
        out.append(
            {
                "domain": d,
                "title": DOMAIN_TITLES[d],
                "datasets": len(group),
                "samples": sum(c.samples or 0 for c in group),
                "samples_unknown": sum(1 for c in group if c.samples is None),
                "size_bytes": sum(c.size_bytes or 0 for c in group),
                "size_unknown": sum(1 for c in group if c.size_bytes is None),
                "keys": [c.key for c in group],
            }
        )
    return out


def stats_totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "domain": "total",
        "title": "Total",
        "datasets": sum(r["datasets"] for r in rows),
        "samples": sum(r["samples"] for r in rows),
        "samples_unknown": sum(r["samples_unknown"] for r in rows),
        "size_bytes": sum(r["size_bytes"] for r in rows),
        "size_unknown": sum(r["size_unknown"] for r in rows),
        "keys": [k for r in rows for k in r["keys"]],
    }


# ---------------------------------------------------------------------------- text views


def card_text(card: DatasetCard) -> str:
    """A plain-text (markdown-flavoured) description of one card, used by `datasets show`."""
    return card_markdown(card, heading="#")


def card_markdown(card: DatasetCard, heading: str = "##") -> str:
    h = heading
    lines = [f"{h} {card.name} (`{card.key}`)", "", card.description, ""]
    lines += [
        f"- **Domain:** {DOMAIN_TITLES[card.domain]} (`{card.domain}`)",
        f"- **Access:** {card.access}",
        f"- **Licence:** {card.licence.name} (`{card.licence.id}`)"
        + (f" — <{card.licence.url}>" if card.licence.url else ""),
        f"- **Homepage:** <{card.homepage}>",
        f"- **Samples:** {f'{card.samples:,}' if card.samples else 'unknown'}"
        + (
            " (" + ", ".join(f"{k} {v:,}" for k, v in card.splits.items()) + ")"
            if card.splits
            else ""
        ),
    ]
    if card.patients:
        lines.append(f"- **Patients/subjects:** {card.patients:,}")
    lines.append(f"- **Size:** {human_bytes(card.size_bytes)}")
    if card.original_code:
        lines.append(f"- **CLIMB original code:** `{card.original_code}`")
    if card.aliases:
        lines.append(f"- **Aliases:** {', '.join(f'`{a}`' for a in card.aliases)}")
    lines += ["", f"{h}# Modalities", ""]
    for m in card.modalities:
        bits = [m.kind]
        if m.shape:
            dims = "×".join("?" if d is None else str(d) for d in m.shape)
            bits.append(f"shape {dims}" + (f" ({', '.join(m.axes)})" if m.axes else ""))
        if m.unit:
            bits.append(f"unit {m.unit}")
        if m.sampling_rate_hz:
            bits.append(f"{m.sampling_rate_hz:g} Hz")
        if m.dtype:
            bits.append(m.dtype)
        desc = f" — {m.description}" if m.description else ""
        lines.append(f"- `{m.name}`: {', '.join(bits)}{desc}")
    lines += ["", f"{h}# Tasks", ""]
    for t in card.tasks:
        extra = f", label space `{t.label_space}`" if t.label_space else ""
        extra += f", level {t.level}" if t.level != "sample" else ""
        extra += f", unit {t.unit}" if t.unit else ""
        lines.append(
            f"- `{t.name}` ({t.type}{extra}){': ' + t.description if t.description else ''}"
        )
        if t.classes:
            lines.append(
                f"  - classes ({t.num_classes}, in index order): "
                + ", ".join(f"{i} `{c}`" for i, c in enumerate(t.classes))
            )
    lines += ["", f"{h}# Sources", ""]
    primary = card.primary_source()
    for n, s in enumerate(card.sources, 1):
        # numbered as `climb fetch KEY --source N` takes them
        line = f"- source {n}: {s.describe()} — {s.role}"
        if s.alternate and primary is not None:
            spec = s.kind if sum(x.kind == s.kind for x in card.sources) == 1 else str(n)
            line += (
                f", an alternate copy of source {primary + 1} (not fetched by default: "
                f"`climb fetch {card.key} --source {spec}`)"
            )
        if s.include:
            line += f"; files: {', '.join(f'`{p}`' for p in s.include)}"
        if s.url and s.kind not in ("url", "manual"):
            line += f"; <{s.url}>"
        if s.notes:
            line += f". {s.notes}"
        lines.append(line)
        if s.instructions:
            lines.append(f"  - how to get it: {s.instructions}")
        if s.expected_layout:  # one glob per line (climb.card.layout_entries)
            lines += ["  - expected layout (globs under the raw folder):", "", "    ```text"]
            lines += [f"    {ln}" for ln in s.expected_layout.strip("\n").splitlines()]
            lines += ["    ```"]
    if card.known_issues:
        lines += ["", f"{h}# Known issues", ""]
        lines += [f"- {k}" for k in card.known_issues]
    if card.discrepancies:
        lines += ["", f"{h}# Where CLIMB's documentation and code disagree", ""]
        lines += ["| topic | documented | code | climb follows | why |", "|---|---|---|---|---|"]
        for d in card.discrepancies:
            cells = [d.topic, d.documented, d.code, d.climb_follows, d.why]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", f"{h}# Citation", "", "```bibtex", card.citation.strip(), "```", ""]
    return "\n".join(lines)


def datasets_markdown() -> str:
    """The whole generated docs/datasets.md page."""
    all_cards = cards()
    rows = stats(all_cards)
    total = stats_totals(rows)
    lines = [
        "<!-- Generated by `climb datasets docs --out docs/datasets.md` from the dataset cards. "
        "Do not edit by hand: edit the card in src/climb/datasets/<domain>/<key>.py. -->",
        "",
        "# Datasets",
        "",
        f"climb knows {total['datasets']} datasets across {len(rows)} domains. "
        "Each section below is generated from the dataset's card. `climb datasets show KEY` prints "
        "the same information; `climb access KEY` tells how to get access.",
        "",
        "| domain | datasets | samples | known size |",
        "|---|---:|---:|---:|",
    ]
    for r in [*rows, total]:
        lines.append(
            f"| {r['title']} | {r['datasets']} | {r['samples']:,} | {human_bytes(r['size_bytes'] or None)} |"
        )
    lines += [
        "",
        "## Index",
        "",
        "| key | name | domain | tasks | samples | access | licence |",
        "|---|---|---|---|---:|---|---|",
    ]
    for c in all_cards:
        r = list_row(c)
        lines.append(
            f"| [`{c.key}`](#{c.key}) | {c.name} | {c.domain} | {r['tasks']} | {r['samples']} | "
            f"{c.access} | {c.licence.id} |"
        )
    lines.append("")
    for d in DOMAINS:
        group = [c for c in all_cards if c.domain == d]
        if not group:
            continue
        lines += [f"# {DOMAIN_TITLES[d]}", ""]
        for c in group:
            lines += [f'<a id="{c.key}"></a>', "", card_markdown(c, heading="##")]
    return "\n".join(lines).rstrip() + "\n"
