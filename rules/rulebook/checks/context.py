"""What every check of a rulebook reads: the rulebook, the lines of its YAML (to say where
a problem is) and whether notice templates are required; and the names that several
subjects look up: deadlines (with their ``repeat_for`` expansions), the fields of
recordable facts, and the facts the rulebook's calculators add.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.rulebook.errors import RulebookError
from rules.rulebook.model import FactSpec, Rulebook
from rules.rulebook.source import Lines


@dataclass(frozen=True)
class Context:
    """One rulebook being checked.

    Attributes:
        rb: The rulebook, valid against the schema.
        lines: Its YAML's lines.
        check_templates: Whether every notice's template files must exist.
    """

    rb: Rulebook
    lines: Lines
    check_templates: bool

    def fail(self, path: tuple[Any, ...], reason: str) -> RulebookError:
        """The error to raise for the node at ``path``."""
        return RulebookError(self.rb.path, self.lines.line(path), reason)

    def known_deadline(self, name: str) -> bool:
        """A declared deadline, or ``<deadline>_<n>`` of one that repeats."""
        deadlines = self.rb.deadlines
        if name in deadlines:
            return True
        base, _, suffix = name.rpartition("_")
        return suffix.isdigit() and base in deadlines and deadlines[base].repeat_for is not None

    def recorded_fields(self) -> dict[str, FactSpec]:
        """The fields of every recordable fact, by name."""
        return {f: s for rf in self.rb.recordable_facts.values() for f, s in rf.fields.items()}

    def derived_outputs(self) -> set[str]:
        """The facts the rulebook's calculators add (an unknown one adds none)."""
        calculators = registered_calculators()
        return {o for c in self.rb.derive if c in calculators for o in calculators[c].outputs}


def registered_calculators() -> Mapping[str, Any]:
    """The registered calculators, imported on first use rather than with this module."""
    from rules.calculators import registered_calculators as registered

    return registered()
