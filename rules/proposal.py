"""A term sheet proposed from an agreement's own text (issue 16, part 1): each figure a
rulebook reads, found in the text by what its clause declares in ``text.yaml`` (its
unit, the words of its sentence, the words close to it), with the section and the exact
sentence it came from; each figure not found is listed as missing, never defaulted.

Pure: the text's outline and quantities are ``contracts.text``'s.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from contracts.text.outline import Part, outline, part_at, sentence_at, sentences
from contracts.text.quantities import Quantity, find_quantities
from rules.rulebook import RulebookRegistry, default_registry
from rules.rulebook.terms import CLAUSES_DIR

#: A figure's type in a rulebook, and the units its text may state it in.
_UNITS_OF = {
    "days": ("day", "calendar day", "business day"),
    "hours": ("hour",),
    "years": ("year",),
    "percent": ("percent",),
    "text_list": (),
}
#: How close (characters) the ``near`` words must stand to the figure.
_NEAR = 80
_SECTIONS = re.compile(
    r"Sections?\s+(?P<list>\d+(?:\.\d+)*(?:\s*,\s*(?:and\s+)?\d+(?:\.\d+)*)*"
    r"(?:\s*,?\s*and\s+\d+(?:\.\d+)*)?)"
)
_LAW = re.compile(
    r"governed by[^.]*?laws? of (?P<law>(?:the )?(?:State|Commonwealth) of [A-Z][A-Za-z ]+?"
    r"|England and Wales|[A-Z][A-Za-z]+)(?=[,.;]| without| and\b)"
)


class FigureText(BaseModel):
    """What one figure looks like in an agreement's text."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["quantity", "sections"] = "quantity"
    unit: str | None = None
    words: list[str] = Field(default_factory=list)
    near: str | None = None


class ClauseText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    figures: dict[str, FigureText]


@dataclass(frozen=True)
class Sought:
    """A term-sheet figure and how to find it."""

    path: str
    clause: str
    name: str
    label: str
    type: str
    text: FigureText


@dataclass(frozen=True)
class Found:
    """A figure found in the text.

    Attributes:
        path: Its place in the term sheet (``clauses.payment.payment_days``).
        value: What the text says.
        part: Where it stands ("§10", "Exhibit A.1").
        sentence: The exact sentence, and its offsets in the text.
        start: Where the figure's words start in the text; ``end`` where they end.
        written: The words as written ("ninety (90) days").
        unsure: Why the reading may be wrong, or None.
    """

    path: str
    label: str
    value: Any
    part: str | None
    sentence: str
    sentence_start: int
    sentence_end: int
    start: int
    end: int
    written: str
    unsure: str | None = None


@dataclass(frozen=True)
class Missing:
    path: str
    label: str
    why: str


@dataclass
class Proposal:
    figures: list[Found] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)


class TextDeclarationError(ValueError):
    """A clause's ``text.yaml`` names a figure its rulebook does not read, or a unit its
    type cannot be stated in."""


@functools.cache
def _sought_cached() -> tuple[Sought, ...]:
    return tuple(sought(default_registry()))


def sought(registry: RulebookRegistry) -> list[Sought]:
    """Every figure some clause declares how to find, once per term-sheet path.

    Raises:
        TextDeclarationError: A declaration does not fit its clause's rulebook.
    """
    out: dict[str, Sought] = {}
    for clause in registry.clauses():
        path = CLAUSES_DIR / clause / "text.yaml"
        if not path.exists():
            continue
        declared = ClauseText.model_validate(yaml.safe_load(path.read_text()))
        rb = registry.latest(clause)
        for name, how in declared.figures.items():
            spec = rb.parameters.get(name)
            if spec is None or isinstance(spec, str):
                raise TextDeclarationError(f"{path}: {name} is not a figure {clause} reads")
            units = _UNITS_OF.get(spec.type)
            if units is None or (how.kind == "quantity") != bool(units):
                raise TextDeclarationError(
                    f"{path}: {name} ({spec.type}) cannot be read as {how.kind}"
                )
            if how.kind == "quantity" and how.unit not in units:
                raise TextDeclarationError(f"{path}: {name} ({spec.type}) is not in {how.unit}s")
            where = rb.parameter_path(name)
            out.setdefault(where, Sought(where, clause, name, spec.label, spec.type, how))
    return list(out.values())


def propose(text: str, wanted: list[Sought] | None = None) -> Proposal:
    """The figures the text states, each with its sentence, and those it does not."""
    parts = outline(text)
    quantities = find_quantities(text)
    result = Proposal()
    for s in wanted if wanted is not None else _sought_cached():
        found = (
            _sections(text, parts, s)
            if s.text.kind == "sections"
            else _quantity(text, parts, quantities, s)
        )
        if isinstance(found, Found):
            result.figures.append(found)
        else:
            result.missing.append(Missing(s.path, s.label, found))
    return result


def _phrase(words: str) -> re.Pattern[str]:
    # Whole words, case aside: "dispute" is not in "undisputed".
    return re.compile(r"\b" + r"\s+".join(map(re.escape, words.split())) + r"\b", re.IGNORECASE)


def _holds(sentence: str, words: list[str]) -> bool:
    return all(_phrase(w).search(sentence) for w in words)


def _quantity(text: str, parts: list[Part], quantities: list[Quantity], s: Sought) -> Found | str:
    how = s.text
    scored = []
    for q in quantities:
        if q.unit != how.unit:
            continue
        sentence = sentence_at(text, q.start, parts)
        if sentence is None or not _holds(sentence.text, how.words):
            continue
        distance = 0
        if how.near:
            spots = [
                m.start() + sentence.start for m in re.finditer(_phrase(how.near), sentence.text)
            ]
            gaps = [min(abs(at - q.end), abs(q.start - (at + len(how.near)))) for at in spots]
            if not gaps or min(gaps) > _NEAR:
                continue
            distance = min(gaps)
        scored.append((distance, q.start, q, sentence))
    if not scored:
        words = ", ".join(f'"{w}"' for w in how.words)
        return f"no {how.unit} figure in a sentence with {words}" + (
            f' close to "{how.near}"' if how.near else ""
        )
    scored.sort(key=lambda item: (item[0], item[1]))
    _, _, q, sentence = scored[0]
    others = {c[2].value for c in scored[1:] if c[0] == scored[0][0]} - {q.value}
    unsure = q.unsure
    if others:
        also = ", ".join(str(v) for v in sorted(others))
        unsure = f"the text also states {also} {how.unit}s where this figure could be"
    value: Any = int(q.value) if s.type in ("days", "hours", "years") else q.value
    if isinstance(value, Decimal):
        value = str(value)
    part = part_at(parts, q.start)
    return Found(
        s.path, s.label, value, part.reference if part else None, sentence.text,
        sentence.start, sentence.end, q.start, q.end, q.text, unsure,
    )  # fmt: skip


def _sections(text: str, parts: list[Part], s: Sought) -> Found | str:
    for part in parts:
        for sentence in sentences(text, part.body, part.end):
            if not _holds(sentence.text, s.text.words):
                continue
            m = _SECTIONS.search(sentence.text)
            if m is None:
                continue
            numbers = re.findall(r"\d+(?:\.\d+)*", m.group("list"))
            start = sentence.start + m.start()
            return Found(
                s.path, s.label, numbers, part.reference, sentence.text, sentence.start,
                sentence.end, start, sentence.start + m.end(), m.group(0),
            )  # fmt: skip
    words = ", ".join(f'"{w}"' for w in s.text.words)
    return f"no list of sections in a sentence with {words}"


def governing_law(text: str) -> Found | None:
    """The law the agreement is governed by, with its sentence; None when it says none."""
    parts = outline(text)
    m = _LAW.search(text)
    if m is None:
        return None
    sentence = sentence_at(text, m.start("law"), parts)
    part = part_at(parts, m.start("law"))
    law = m.group("law").removeprefix("the ")
    return Found(
        "governing_law", "The law that governs the agreement", law,
        part.reference if part else None,
        sentence.text if sentence else "", sentence.start if sentence else m.start(),
        sentence.end if sentence else m.end(), m.start("law"), m.end("law"), m.group("law"),
    )  # fmt: skip


@dataclass(frozen=True)
class Deviation:
    """Where the proposal departs from the standard term sheet."""

    path: str
    label: str
    value: Any
    standard: Any
    part: str | None
    text: str


def _value_at(terms: dict[str, Any], path: str) -> Any:
    node: Any = terms
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _said(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def deviations(found: list[Found], standard: dict[str, Any]) -> list[Deviation]:
    """Each figure found that differs from ``standard`` (a term sheet's JSON), as a person
    reviews it: "cure period 15 (your standard: 30), §10"."""
    out = []
    for f in found:
        theirs = _value_at(standard, f.path)
        if theirs is None or _said(theirs) == _said(f.value):
            continue
        where = f", {f.part}" if f.part else ""
        text = f"{f.label}: {_said(f.value)} (your standard: {_said(theirs)}){where}"
        out.append(Deviation(f.path, f.label, f.value, theirs, f.part, text))
    return out


def read_agreement(text: str) -> Proposal:
    """Everything a term sheet needs that the text states, each figure with its section
    and sentence, and everything it does not state as missing: the rulebooks' figures
    and the governing law (``governing_law`` in ``figures``, or in ``missing``)."""
    result = propose(text)
    law = governing_law(text)
    if law is not None:
        result.figures.append(law)
    else:
        result.missing.append(
            Missing(
                "governing_law",
                "The law that governs the agreement",
                'no sentence says "governed by the laws of"',
            )
        )
    return result
