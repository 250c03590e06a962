"""The figures a rulebook reads, found in an agreement's text by what its clause
declares in ``text.yaml``: each period or percentage by its unit, the words of its
sentence and the words close to it; a list of sections; and the section and exhibit of
the clause itself, by their headings, so that a renumbered agreement gives its own.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from contracts.text.outline import Part, heading_line, outline, sentences
from contracts.text.quantities import Quantity, find_quantities
from rules.proposal.found import Found, Missing, Place, Proposal
from rules.rulebook import RulebookRegistry, default_registry
from rules.rulebook.model import Rulebook
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


class FigureText(BaseModel):
    """What one figure looks like in an agreement's text."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["quantity", "sections"] = "quantity"
    unit: str | None = None
    words: list[str] = Field(default_factory=list)
    near: str | None = None


class HeadingText(BaseModel):
    """How the clause's section or exhibit is headed: the words its heading holds, case
    aside; the first that some heading holds wins ("Term and Termination", then
    "Termination")."""

    model_config = ConfigDict(extra="forbid")

    heading: list[str] = Field(min_length=1)
    #: For an exhibit's numbered item ("4. Payment Terms:" of Exhibit B is B.4).
    item: list[str] | None = None


class ClauseText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    figures: dict[str, FigureText] = Field(default_factory=dict)
    section: HeadingText | None = None
    exhibit: HeadingText | None = None


@dataclass(frozen=True)
class Sought:
    """A term-sheet figure and how to find it."""

    path: str
    clause: str
    name: str
    label: str
    type: str
    text: FigureText | HeadingText


class TextDeclarationError(ValueError):
    """A clause's ``text.yaml`` names a figure its rulebook does not read, a unit its
    type cannot be stated in, or a section or exhibit its term-sheet heading has not."""


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
        for kind in ("section", "exhibit"):
            heading = getattr(declared, kind)
            if heading is None:
                continue
            place = _place(path, rb, kind, heading)
            known = out.setdefault(place.path, place)
            if known.text != place.text:
                # Clauses that share a heading (Exhibit A's) must find it alike.
                raise TextDeclarationError(
                    f"{path}: {place.path} is declared differently by {known.clause}"
                )
    return list(out.values())


def _place(path: Path, rb: Rulebook, kind: str, heading: HeadingText) -> Sought:
    standard = getattr(rb.terms, kind, None)
    if rb.terms is None or standard is None:
        raise TextDeclarationError(f"{path}: {rb.clause}'s term-sheet heading has no {kind}")
    if kind == "section" and heading.item is not None:
        raise TextDeclarationError(f"{path}: a section has no items; an exhibit has")
    if kind == "exhibit" and (heading.item is not None) != ("." in standard):
        raise TextDeclarationError(
            f"{path}: the exhibit is {standard}: declare an item exactly when it has one"
        )
    head = rb.terms.heading
    label = f"The {kind} that holds the {head.replace('_', ' ')} clause"
    return Sought(f"clauses.{head}.{kind}", rb.clause, kind, label, kind, heading)


def propose(text: str, wanted: list[Sought] | None = None) -> Proposal:
    """The figures the text states, each with its sentence, and those it does not."""
    place = Place(text, outline(text))
    quantities = find_quantities(text)
    result = Proposal()
    for s in wanted if wanted is not None else _sought_cached():
        if isinstance(s.text, HeadingText):
            found = _heading(place, s, s.text)
        elif s.text.kind == "sections":
            found = _sections(place, s, s.text)
        else:
            found = _quantity(place, quantities, s, s.text)
        result.add(found if isinstance(found, Found) else Missing(s.path, s.label, found))
    return result


def _phrase(words: str) -> re.Pattern[str]:
    # Whole words, case aside: "dispute" is not in "undisputed".
    return re.compile(r"\b" + r"\s+".join(map(re.escape, words.split())) + r"\b", re.IGNORECASE)


def _holds(sentence: str, words: list[str]) -> bool:
    return all(_phrase(w).search(sentence) for w in words)


def _quantity(place: Place, quantities: list[Quantity], s: Sought, how: FigureText) -> Found | str:
    scored = []
    # What each sentence holds, read once: a sentence may hold many figures.
    holds: dict[int, bool] = {}
    spots: dict[int, list[int]] = {}
    for q in quantities:
        if q.unit != how.unit:
            continue
        sentence = place.sentence_at(q.start)
        if sentence is None:
            continue
        if sentence.start not in holds:
            holds[sentence.start] = _holds(sentence.text, how.words)
        if not holds[sentence.start]:
            continue
        distance = 0
        if how.near:
            if sentence.start not in spots:
                spots[sentence.start] = [
                    m.start() + sentence.start
                    for m in re.finditer(_phrase(how.near), sentence.text)
                ]
            gaps = [
                min(abs(at - q.end), abs(q.start - (at + len(how.near))))
                for at in spots[sentence.start]
            ]
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
    return place.found(s.path, s.label, value, q.start, q.end, sentence=sentence, unsure=unsure)


def _sections(place: Place, s: Sought, how: FigureText) -> Found | str:
    text = place.text
    for part in place.parts:
        for sentence in sentences(text, part.body, part.end):
            if not _holds(sentence.text, how.words):
                continue
            m = _SECTIONS.search(sentence.text)
            if m is None:
                continue
            numbers = re.findall(r"\d+(?:\.\d+)*", m.group("list"))
            start = sentence.start + m.start()
            return place.found(
                s.path, s.label, numbers, start, sentence.start + m.end(), sentence=sentence
            )
    words = ", ".join(f'"{w}"' for w in how.words)
    return f"no list of sections in a sentence with {words}"


def _headed(parts: list[Part], kind: str, alternatives: list[str]) -> list[Part]:
    """The parts of ``kind`` headed by the first of ``alternatives`` that any is."""
    for words in alternatives:
        headed = [p for p in parts if p.kind == kind and _phrase(words).search(p.heading)]
        if headed:
            return headed
    return []


def _heading(place: Place, s: Sought, how: HeadingText) -> Found | str:
    kind = "section" if s.name == "section" else "exhibit"
    headed = _headed(place.parts, kind, how.heading)
    said = " or ".join(f'"{h}"' for h in how.heading)
    if not headed:
        return f"no {kind} headed {said}"
    if how.item is not None:
        exhibit = headed[0]
        items = [p for p in place.parts if p.number.startswith(f"{exhibit.number}.")]
        headed = _headed(items, "item", how.item)
        if not headed:
            items_said = " or ".join(f'"{h}"' for h in how.item)
            return f"no item headed {items_said} in {exhibit.reference}"
    part = headed[0]
    unsure = None
    if len(headed) > 1:
        also = ", ".join(p.reference for p in headed[1:])
        unsure = f"{also} {'is' if len(headed) == 2 else 'are'} headed alike"
    # The heading's own line is its sentence; its words run from the number to the
    # heading's last word ("10. Term and Termination", "EXHIBIT B: FEE SCHEDULE").
    line = place.text[part.start : part.body]
    lead = len(line) - len(line.lstrip("* \t"))
    start = part.start + lead
    end = place.text.index(part.heading, start) + len(part.heading)
    return place.found(
        s.path,
        s.label,
        part.number,
        start,
        end,
        sentence=heading_line(place.text, part),
        unsure=unsure,
    )
