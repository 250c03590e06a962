"""The term sheet the rulebooks declare.

Each rulebook declares the figures it reads (:class:`ParameterSpec`: type, default,
section) and the heading of the term sheet they sit under. Together they make the
``clauses`` part of a term sheet: :func:`term_sheet_model` builds the pydantic model that
checks a contract's term sheet and fills in every default, so a new clause brings its
figures with it and ``contracts/terms.py`` needs no class per clause.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from contracts.terms import TermSheet
from rules.rulebook.errors import RulebookError
from rules.rulebook.model import ParameterSpec, Rulebook, TermsHeading

# rules/clauses/, beside this package.
CLAUSES_DIR = Path(__file__).parent.parent / "clauses"

CLAUSES_DOC = "Each clause's numbers and the section it comes from."


def _latest_first(days: list[int]) -> list[int]:
    return sorted(set(days), reverse=True)


def _positive_days(days: list[int]) -> list[int]:
    if any(d <= 0 for d in days):
        raise ValueError("reminder days must be positive")
    return days


_DAY_LIST = Annotated[list[int], AfterValidator(_positive_days), AfterValidator(_latest_first)]
_COUNTS = {"days", "hours", "years"}


def figure_field(spec: ParameterSpec) -> tuple[Any, Any]:
    """The pydantic field of one declared figure."""
    extra: dict[str, Any] = {"description": spec.label}
    if spec.type in _COUNTS:
        return int, Field(default=spec.default, gt=0, validate_default=True, **extra)
    if spec.type in ("percent", "decimal"):
        bounds: dict[str, Any] = {"ge": spec.at_least, "gt": spec.above, "le": spec.at_most}
        return Decimal, Field(default=spec.default, validate_default=True, **bounds, **extra)
    kinds: dict[str, Any] = {
        "day_list": _DAY_LIST,
        "yes_no": bool,
        "text": str,
        "text_list": list[str],
    }
    return kinds[spec.type], Field(default=spec.default, validate_default=True, **extra)


@dataclass
class _Figure:
    spec: ParameterSpec
    rulebook: Rulebook
    name: str


@dataclass
class _Heading:
    declared: TermsHeading
    rulebook: Rulebook
    figures: dict[str, _Figure] = field(default_factory=dict)


@dataclass
class Declarations:
    """The headings and figures that a set of rulebooks declares, checked to agree."""

    headings: dict[str, _Heading] = field(default_factory=dict)
    #: Figures directly under ``clauses`` (``surviving_sections``).
    top: dict[str, _Figure] = field(default_factory=dict)

    def paths(self) -> set[str]:
        """Every declared ``clauses.…`` path."""
        out = {f"clauses.{name}" for name in self.top}
        for heading, h in self.headings.items():
            out |= {f"clauses.{heading}.{name}" for name in h.figures}
            out |= {f"clauses.{heading}.{k}" for k in ("section", "exhibit")}
        return out


def _differs(what: str, first: Rulebook, second: Rulebook) -> RulebookError:
    return RulebookError(
        second.path,
        1,
        f"{what} is declared differently by {first.clause} v{first.version} "
        f"({first.path.name}); rulebooks that share a figure must declare it alike",
    )


def declarations(rulebooks: Iterable[Rulebook]) -> Declarations:
    """The term-sheet figures of ``rulebooks``.

    Raises:
        RulebookError: Two rulebooks declare a heading or a figure differently.
    """
    out = Declarations()
    for rb in rulebooks:
        if rb.terms is not None:
            known = out.headings.get(rb.terms.heading)
            if known is None or known.rulebook.terms is None:
                # First declared here, or so far only implied by figures under it.
                figures = known.figures if known else {}
                out.headings[rb.terms.heading] = _Heading(rb.terms, rb, figures)
            elif known.declared != rb.terms:
                raise _differs(f"heading {rb.terms.heading!r}", known.rulebook, rb)
        for name, spec in rb.parameters.items():
            if isinstance(spec, ParameterSpec):
                _add_figure(out, rb, name, spec)
    return out


def _add_figure(out: Declarations, rb: Rulebook, name: str, spec: ParameterSpec) -> None:
    path = rb.parameter_path(name).removeprefix("clauses.").split(".")
    if len(path) == 1:
        place, key = out.top, path[0]
    else:
        implied = _Heading(TermsHeading(heading=path[0]), rb)
        place, key = out.headings.setdefault(path[0], implied).figures, path[1]
    seen = place.get(key)
    if seen is None:
        place[key] = _Figure(spec, rb, key)
    elif seen.spec.model_dump(exclude={"label"}) != spec.model_dump(exclude={"label"}):
        raise _differs(f"figure {'.'.join(path)!r}", seen.rulebook, rb)


def _title(heading: str) -> str:
    return "".join(part.capitalize() for part in heading.split("_")) + "Terms"


def clause_terms_model(decl: Declarations) -> type[BaseModel]:
    """The model of a term sheet's ``clauses``: one sub-model a heading."""
    fields: dict[str, Any] = {}
    for name, heading in sorted(decl.headings.items()):
        own: dict[str, Any] = {}
        for key in ("section", "exhibit"):
            value = getattr(heading.declared, key)
            if value is not None:
                own[key] = (str, value)
        own |= {n: figure_field(f.spec) for n, f in sorted(heading.figures.items())}
        model = create_model(  # type: ignore[call-overload]
            heading.declared.title or _title(name),
            __config__=ConfigDict(extra="forbid"),
            **own,
        )
        fields[name] = (model, Field(default_factory=model))
    fields |= {n: figure_field(f.spec) for n, f in sorted(decl.top.items())}
    return create_model(  # type: ignore[call-overload,no-any-return]
        "ClauseTerms",
        __config__=ConfigDict(extra="forbid"),
        __doc__=CLAUSES_DOC,
        **fields,
    )


def term_sheet_model(rulebooks: Iterable[Rulebook]) -> type[TermSheet]:
    """A :class:`TermSheet` whose ``clauses`` are checked against ``rulebooks``' figures."""
    clauses = clause_terms_model(declarations(rulebooks))
    return create_model(  # type: ignore[call-overload,no-any-return]
        "TermSheet",
        __base__=TermSheet,
        __doc__=TermSheet.__doc__,
        clauses=(clauses, Field(default_factory=clauses)),
    )


@functools.cache
def shipped_paths(clauses_dir: Path) -> frozenset[str]:
    """The ``clauses.…`` paths declared by the rulebook files under ``clauses_dir``.

    Read from the YAML alone, so checking one rulebook's paths needs no other loaded.
    """
    books = []
    for file in sorted(clauses_dir.glob("*/rulebook.v*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        params = data.get("parameters") or {}
        heading = (data.get("terms") or {}).get("heading") or data.get("clause")
        for name, spec in params.items():
            if isinstance(spec, dict):
                term = spec.get("term") or f"{heading}.{name}"
                books.append(f"clauses.{term}")
        if data.get("terms"):
            books += [f"clauses.{heading}.section", f"clauses.{heading}.exhibit"]
    return frozenset(books)
