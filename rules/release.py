"""Released rulebook versions: `python -m rules.release` records new ones.

A released version may have live cases pinned to it, so its file must never change:
rules/released.json holds each released version's SHA-256, and the test suite fails
when a released file differs (tests/rules/test_released_rulebooks.py). A change goes
into a new version file instead; see docs/shipping-changes.md.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from rules.rulebook import CLAUSES_DIR, RulebookRegistry

RELEASED = Path(__file__).with_name("released.json")


def file_hash(path: Path) -> str:
    """The SHA-256 of a rulebook file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def released() -> dict[str, str]:
    """``{"<clause>@<version>": sha256}`` of every released rulebook version."""
    return json.loads(RELEASED.read_text()) if RELEASED.exists() else {}


def key(clause: str, version: int) -> str:
    return f"{clause}@{version}"


def release_new_versions() -> list[str]:
    """Records every rulebook version not released yet; never rewrites a released one."""
    registry = RulebookRegistry()
    registry.load(CLAUSES_DIR)
    known = released()
    added = []
    for rb in registry.all():
        k = key(rb.clause, rb.version)
        if k not in known:
            known[k] = file_hash(rb.path)
            added.append(k)
    RELEASED.write_text(json.dumps(dict(sorted(known.items())), indent=2) + "\n")
    return added


if __name__ == "__main__":
    new = release_new_versions()
    print("released: " + (", ".join(new) if new else "nothing new"))
    sys.exit(0)
