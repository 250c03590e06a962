"""The checks of a loaded rulebook that a JSON schema cannot express, one module a subject:
its header (file name, folder, parameters, calculators), facts and states, deadlines,
notices and rules. Each check names only what the rulebook declares.
"""

from __future__ import annotations

from collections.abc import Callable

from rules.rulebook.checks.agreement import check_agreement
from rules.rulebook.checks.context import Context
from rules.rulebook.checks.deadlines import check_deadlines
from rules.rulebook.checks.facts import (
    check_identity,
    check_recordable_facts,
    check_reserved_names,
    check_start_facts,
    check_starts_with_contract,
    check_states,
)
from rules.rulebook.checks.header import check_calculators, check_file_name, check_parameters
from rules.rulebook.checks.notices import check_notices
from rules.rulebook.checks.rules import check_rules
from rules.rulebook.model import Rulebook
from rules.rulebook.source import Lines

# Only the first problem found is reported, so this order decides which one a rulebook
# with several is told about.
_CHECKS: tuple[Callable[[Context], None], ...] = (
    check_file_name,
    check_reserved_names,
    check_parameters,
    check_start_facts,
    check_starts_with_contract,
    check_identity,
    check_states,
    check_recordable_facts,
    check_calculators,
    check_deadlines,
    check_notices,
    check_rules,
    check_agreement,
)


def check_rulebook(rulebook: Rulebook, lines: Lines, check_templates: bool) -> None:
    """Checks what a rulebook names against what it declares.

    Args:
        rulebook: The rulebook, valid against the schema.
        lines: Its YAML's lines, to say where a problem is.
        check_templates: Also require every notice's template files.

    Raises:
        RulebookError: The first problem found, with its file and line.
    """
    context = Context(rulebook, lines, check_templates)
    for check in _CHECKS:
        check(context)
