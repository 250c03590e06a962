"""Small demo rulebooks the rulebook tests write and load."""

from __future__ import annotations

from pathlib import Path

from rules.rulebook import Rulebook, load_rulebook

#: The end of a demo rulebook whose one rule starts the case in state ``running``.
STARTS_RUNNING = """\
rules:
  - name: start
    when: {event: case_started}
    then:
      - transition: running
"""


def load_demo(root: Path, clause: str, text: str) -> Rulebook:
    """Writes ``text`` as version 1 of ``clause`` below ``root`` and loads it."""
    folder = root / "clauses" / clause
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rulebook.v1.yaml").write_text(text, encoding="utf-8")
    return load_rulebook(folder / "rulebook.v1.yaml")
