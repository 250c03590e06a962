"""The checks of a rulebook's header: its version and clause against its file name and
folder, its parameters against the term sheet's fields, its calculators (``derive``)
against those registered.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel

from contracts.terms import TermSheet
from rules.rulebook.checks.context import Context, registered_calculators
from rules.rulebook.errors import did_you_mean
from rules.rulebook.source import file_version


def check_file_name(ctx: Context) -> None:
    """The version is the file's ``N`` and the clause is its folder's name."""
    rb = ctx.rb
    if file_version(rb.path) != rb.version:
        raise ctx.fail(
            ("version",),
            f"version {rb.version} does not match the file name {rb.path.name}",
        )
    if rb.folder.name != rb.clause:
        raise ctx.fail(
            ("clause",),
            f"clause {rb.clause!r} does not match its folder {rb.folder.name!r}",
        )


def check_parameters(ctx: Context) -> None:
    """Each parameter names a path the TermSheet model has."""
    for name, dotted in ctx.rb.parameters.items():
        if not _term_sheet_has(dotted):
            raise ctx.fail(
                ("parameters", name),
                f"parameter {name!r}: the term sheet has no {dotted!r}",
            )


def check_calculators(ctx: Context) -> None:
    """Each ``derive`` entry is a registered calculator."""
    calculators = registered_calculators()
    for i, name in enumerate(ctx.rb.derive):
        if name not in calculators:
            raise ctx.fail(
                ("derive", i),
                f"unknown calculator {name!r}" + did_you_mean(name, calculators),
            )


def _term_sheet_has(dotted: str) -> bool:
    """Whether a dotted path exists in the TermSheet model (checked on the classes)."""
    node: Any = TermSheet
    for part in dotted.split("."):
        if not (inspect.isclass(node) and issubclass(node, BaseModel)):
            # Below a dict or a plain value: only a real term sheet can tell.
            return True
        field = node.model_fields.get(part)
        if field is None:
            return False
        node = field.annotation
    return True
