"""``clauseflow propose FILE``: the term sheet proposed from an agreement (plain text,
Word or PDF), each figure with where it stands and the sentence it came from, and what
the text does not state (rules/proposal)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from contracts.text.documents import DocumentError, text_of
from rules.proposal import Found, read_agreement


def run(file: str, *, as_json: bool = False) -> int:
    """Prints the proposal; 2 when the file cannot be read as an agreement."""
    try:
        text = text_of(file, Path(file).read_bytes())
    except (OSError, DocumentError) as exc:
        print(f"{file}: cannot read it as an agreement ({exc})", file=sys.stderr)
        return 2
    found = read_agreement(text)
    law = next((f for f in found.figures if f.path == "governing_law"), None)
    if as_json:
        print(
            json.dumps(
                {
                    "figures": [dataclasses.asdict(f) for f in found.figures],
                    "missing": [dataclasses.asdict(m) for m in found.missing],
                    "governing_law": dataclasses.asdict(law) if law else None,
                },
                indent=2,
                default=str,
            )
        )
        return 0
    for f in found.figures:
        _show(f)
    print("\nGoverning law: " + (f"{law.value} ({law.part})" if law else "not stated"))
    if found.missing:
        print("\nNot stated in the text (give them yourself; nothing is defaulted):")
        for m in found.missing:
            print(f"  - {m.path}: {m.label} ({m.why})")
    return 0


def _show(f: Found) -> None:
    value = ", ".join(map(str, f.value)) if isinstance(f.value, list) else f.value
    where = f.part or "head of the agreement"
    print(f'{f.path} = {value}  ({where}: "{f.written}")')
    print(f"    {f.sentence}")
    if f.unsure:
        print(f"    unsure: {f.unsure}")
