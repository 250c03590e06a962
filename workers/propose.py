"""``clauseflow propose FILE``: the term sheet proposed from an agreement's plain text,
each figure with where it stands and the sentence it came from (rules/proposal.py)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from rules.proposal import governing_law, propose


def run(file: str, *, as_json: bool = False) -> int:
    """Prints the proposal; 2 when the file cannot be read as text."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{file}: cannot read it as UTF-8 text ({exc})", file=sys.stderr)
        return 2
    found = propose(text)
    law = governing_law(text)
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
        print(f'{f.path} = {f.value}  ({f.part}: "{f.written}")')
        print(f"    {f.sentence}")
        if f.unsure:
            print(f"    unsure: {f.unsure}")
    print("\nGoverning law: " + (f"{law.value} ({law.part})" if law else "not stated"))
    if found.missing:
        print("\nNot stated in the text (give them yourself; nothing is defaulted):")
        for m in found.missing:
            print(f"  - {m.path}: {m.label} ({m.why})")
    return 0
