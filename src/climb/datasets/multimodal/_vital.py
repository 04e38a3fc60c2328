"""Vital (BioMed-VITAL) adapter: LLaVA-style instruction files + figure images -> a store with a
``qa`` task.

The Hugging Face repository's layout is not verified (the card's source is a GUESS), so the
adapter reads what LLaVA-style instruction data look like: every ``*.json`` (a list of objects)
and ``*.jsonl`` (one object per line) under the raw folder whose objects have ``conversations``
(a list of ``{"from": "human"|"gpt", "value": str}`` turns, starting with a human turn) and
``image`` (a path, or a list of paths: the first is used). An image is looked up at
``raw/<image>``, ``raw/images/<image>``, then by file name anywhere under the raw folder.

* the image is stored as a 3-channel ``image`` field (resized like every imaging adapter);
* the conversation is kept verbatim in ``native_labels["conversations"]``; the ``qa`` task's
  column ``label__instruction_following`` holds its number of question-answer rounds (the
  target itself is text: ``climb export`` writes the conversation);
* ``patient_id`` is the PubMed Central article id (``PMC\\d+``) in the image path when there is
  one, so figures of one article stay in one split; else the record id;
* the ``official`` split comes from the instruction file name (``train``/``test``/``val`` in
  it); without such names only the seeded group split is offered.

Bad records are quarantined with a reason: malformed JSON lines, a missing or empty
conversation, a conversation that does not start with a human turn, no image, an image not in
the download (BioMed-VITAL's images come from PMC-15M and may have to be fetched separately).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

from climb.core.adapter import PrepareOptions, RecordRef
from climb.datasets._imaging import IMAGE_EXTS, ImagingAdapter, ref

TASK = "instruction_following"
_PMC = re.compile(r"(PMC\d+)")
_SPLIT_WORDS = (("train", "train"), ("test", "test"), ("eval", "test"), ("val", "val"))


def _split_of(name: str) -> str | None:
    low = name.lower()
    for word, split in _SPLIT_WORDS:
        if word in low:
            return split
    return None


def _entries(path: Path) -> list[tuple[int, Any, str | None]]:
    """``(position, object or None, error)`` of one instruction file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".jsonl":
        out: list[tuple[int, Any, str | None]] = []
        for i, line in enumerate(text.splitlines()):
            if not line.strip():
                continue
            try:
                out.append((i, json.loads(line), None))
            except ValueError as exc:
                out.append((i, None, f"line {i + 1} is not JSON ({exc.msg})"))
        return out
    try:
        data = json.loads(text)
    except ValueError as exc:
        return [(0, None, f"not JSON ({exc.msg} at line {exc.lineno})")]
    if isinstance(data, dict):
        data = data.get("data") or data.get("instances") or [data]
    if not isinstance(data, list):
        return [(0, None, "not a list of instruction objects")]
    return [(i, obj, None) for i, obj in enumerate(data)]


def _conversation(obj: Any) -> tuple[list[dict[str, str]] | None, str | None]:
    conv = obj.get("conversations") if isinstance(obj, dict) else None
    if not isinstance(conv, list) or not conv:
        return None, "no conversation (missing or empty 'conversations')"
    turns = []
    for t in conv:
        if not isinstance(t, dict) or not isinstance(t.get("value"), str) or not t.get("from"):
            return None, "malformed conversation turn (needs 'from' and a string 'value')"
        turns.append({"from": str(t["from"]), "value": t["value"]})
    if turns[0]["from"] not in ("human", "user"):
        return None, f"conversation starts with a {turns[0]['from']!r} turn, not a human one"
    return turns, None


class VitalAdapter(ImagingAdapter):
    key = "vital"
    version = "1"
    channels = 3
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        TASK: {
            "type": "qa",
            "classes": (),
            "description": "number of question-answer rounds; the conversation is in native_labels",
        }
    }
    has_official = False
    has_climb = False
    split_note = (
        "splits: 'official' from the instruction file names when they say train/test; else "
        "seeded, grouped by PMC article"
    )

    def map_tables(self) -> tuple[str, ...]:
        return ()

    def _files(self, raw_dir: Path) -> list[Path]:
        return sorted(
            p
            for p in raw_dir.rglob("*")
            if p.is_file() and p.suffix in (".json", ".jsonl") and not p.name.startswith(".")
        )

    def split_rules(self, raw_dir: Path) -> list[str]:
        named = any(_split_of(p.name) for p in self._files(raw_dir))
        return ["official", "patient"] if named else ["patient"]

    def default_split_rule(self, raw_dir: Path) -> str:
        return self.split_rules(raw_dir)[0]

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        by_name: dict[str, Path] = {}
        for p in sorted(raw_dir.rglob("*")):
            if p.suffix.lower() in IMAGE_EXTS and p.is_file():
                by_name.setdefault(p.name, p)
        out: list[RecordRef] = []
        seen: dict[str, int] = {}
        for f in self._files(raw_dir):
            split = _split_of(f.name)
            rel_f = f.relative_to(raw_dir).as_posix()
            for pos, obj, err in _entries(f):
                rid = str(obj.get("id")) if isinstance(obj, dict) and obj.get("id") else str(pos)
                rid = f"{f.stem}:{rid}"
                if rid in seen:
                    seen[rid] += 1
                    rid = f"{rid}#{seen[rid]}"
                else:
                    seen[rid] = 0
                conv, cerr = (None, err) if err else _conversation(obj)
                image = obj.get("image") if isinstance(obj, dict) else None
                if isinstance(image, list):
                    image = image[0] if image else None
                path: Path | None = None
                if cerr is None:
                    if not image or not isinstance(image, str):
                        cerr = "no image (text-only instruction)"
                    else:
                        for cand in (raw_dir / image, raw_dir / "images" / image):
                            if cand.is_file():
                                path = cand
                                break
                        else:
                            path = by_name.get(Path(image).name)
                        if path is None:
                            cerr = (
                                f"image not in the download: {image} (BioMed-VITAL's images come "
                                "from PMC-15M; put them under raw/vital/images/)"
                            )
                pmc = _PMC.search(str(image or ""))
                n_rounds = sum(1 for t in conv or () if t["from"] in ("human", "user"))
                out.append(
                    ref(
                        rid,
                        [path] if path is not None else [],
                        raw_dir,
                        labels={TASK: n_rounds},
                        native={"conversations": conv or [], "image": image, "file": rel_f},
                        patient=pmc.group(1) if pmc else rid,
                        split={"official": split} if split else {},
                        error=f"{rel_f} entry {pos}: {cerr}" if cerr else None,
                    )
                )
        return out
