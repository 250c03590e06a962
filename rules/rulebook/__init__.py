"""Rulebooks: the declarative YAML that decides each clause's transitions and notices.

A rulebook lives at ``rules/clauses/<clause>/rulebook.v<N>.yaml``. Loading one checks it
against ``rules/schema/rulebook.schema.json`` and then cross-checks its names (states,
deadlines, notices, parameters, facts). Every problem is reported as a
:class:`RulebookError` that names the file, the line and the reason, so a typo is caught
when the worker starts rather than months later when a deadline fires.

This package's names are the public ones; its modules hold one kind of thing each:

- ``vocabulary``: the words the code knows (fact types, events, actions, roles, units,
  reserved names, the engine's own state ``COULD_NOT_START``);
- ``errors``: :class:`RulebookError`, :class:`UnknownRulebook`, :class:`ParameterError`;
- ``model``: the pydantic models of a rulebook and :class:`ExpandedDeadline`;
- ``source``: the file's name and its YAML with the line of every node;
- ``loader``: :func:`load_rulebook` (YAML, schema, model, checks);
- ``checks``: the cross-reference checks the schema cannot express, one module a subject;
- ``terms``: the term sheet the rulebooks declare (their parameters' types and defaults);
- ``registry``: :class:`RulebookRegistry` and :func:`default_registry`.
"""

from __future__ import annotations

from rules.rulebook.errors import ParameterError, RulebookError, UnknownRulebook
from rules.rulebook.loader import SCHEMA_PATH, load_rulebook
from rules.rulebook.model import (
    DeadlineFrom,
    DeadlineSpec,
    EachRef,
    ExpandedDeadline,
    FactSpec,
    NoticeSpec,
    ParameterSpec,
    ParamRef,
    Period,
    RecordableFact,
    RequireAnyTrue,
    Rulebook,
    RuleSpec,
    Scalar,
    StartsWithContract,
    StateSpec,
    TermsHeading,
)
from rules.rulebook.registry import CLAUSES_DIR, RulebookRegistry, default_registry
from rules.rulebook.vocabulary import (
    ACTIONS,
    COULD_NOT_START,
    COULD_NOT_START_LABEL,
    DEADLINE_UNITS,
    EVENT_KEYS,
    EVENTS,
    FACT_TYPES,
    NUMBER_TYPES,
    RECIPIENT_ROLES,
    RESERVED_NAMES,
    SENDER_ROLES,
    SIDE_FACTS,
    TIME_TYPES,
    DeadlineUnit,
    FactType,
)

__all__ = [
    "ACTIONS",
    "CLAUSES_DIR",
    "COULD_NOT_START",
    "COULD_NOT_START_LABEL",
    "DEADLINE_UNITS",
    "EVENTS",
    "EVENT_KEYS",
    "FACT_TYPES",
    "NUMBER_TYPES",
    "RECIPIENT_ROLES",
    "RESERVED_NAMES",
    "SCHEMA_PATH",
    "SENDER_ROLES",
    "SIDE_FACTS",
    "TIME_TYPES",
    "DeadlineFrom",
    "DeadlineSpec",
    "DeadlineUnit",
    "EachRef",
    "ExpandedDeadline",
    "FactSpec",
    "FactType",
    "NoticeSpec",
    "ParamRef",
    "ParameterError",
    "ParameterSpec",
    "Period",
    "RecordableFact",
    "RequireAnyTrue",
    "RuleSpec",
    "Rulebook",
    "RulebookError",
    "RulebookRegistry",
    "Scalar",
    "StartsWithContract",
    "StateSpec",
    "TermsHeading",
    "UnknownRulebook",
    "default_registry",
    "load_rulebook",
]
