"""The checks of a rulebook's header: its version and clause against its file name and
folder, its parameters against the term sheet's fields, its calculators (``derive``)
against those registered.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from contracts.terms import TermSheet
from rules.rulebook.checks.context import Context, registered_calculators
from rules.rulebook.errors import did_you_mean
from rules.rulebook.model import ParameterSpec
from rules.rulebook.source import file_version
from rules.rulebook.terms import CLAUSES_DIR, figure_field, shipped_paths


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
    """A declared parameter's default fits its type; a path names a figure some rulebook
    declares (or a field of the term sheet itself)."""
    own = {ctx.rb.parameter_path(n) for n, s in ctx.rb.parameters.items() if not isinstance(s, str)}
    for name, spec in ctx.rb.parameters.items():
        if isinstance(spec, ParameterSpec):
            _check_declared(ctx, name, spec)
            continue
        known = own | shipped_paths(CLAUSES_DIR)
        if not (spec in known if spec.startswith("clauses.") else _term_sheet_has(spec)):
            raise ctx.fail(
                ("parameters", name),
                f"parameter {name!r}: the term sheet has no {spec!r}",
            )


def _check_declared(ctx: Context, name: str, spec: ParameterSpec) -> None:
    if spec.term is not None and spec.term.count(".") > 1:
        raise ctx.fail(
            ("parameters", name, "term"),
            f"parameter {name!r}: a term is a figure under clauses or under one heading, "
            f"not {spec.term!r}",
        )
    annotation, info = figure_field(spec)
    probe = create_model("Probe", value=(annotation, info))
    try:
        probe(value=spec.default)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise ctx.fail(
            ("parameters", name, "default"),
            f"parameter {name!r}: the default {spec.default!r} is not a {spec.type}: {reason}",
        ) from None


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
