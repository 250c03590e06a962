"""A term sheet accepted from an agreement's proposal (issue 16, part 2): what a person
reviews, and what each of their entries makes of it.

The review asks for every value of a term sheet: each figure the text states (to accept
or edit), each it does not (to give, or to take the standard's value by ticking it: a
choice, never a default), and everything an agreement's text does not carry, prefilled
from the standard and marked so. Accepting builds the term sheet from those entries alone
(dotted paths, any path the proposal reads), checks it with the rulebooks' model and says
how each value came to be: ``read``, ``edited``, ``given`` or ``standard``.

Pure: the same proposal, standard and entries give the same answer.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from contracts.terms import TermSheet
from rules.proposal import Found, Proposal, deviations
from rules.proposal.found import value_at
from rules.rulebook import default_registry

Origin = Literal["read", "missing", "standard", "optional"]
How = Literal["read", "edited", "given", "standard"]

#: Values the model derives from others (the calendar and day count from the governing
#: law): never prefilled from a standard, whose law may not be this agreement's.
DERIVED = ("holiday_calendar", "day_count")
#: Of those, what a person may still state: the calendar (empty: the governing law's),
#: and, under a law other than New York's, how its days are counted (empty: the event's
#: day excluded, a last day that is not a business day rolled forward).
OPTIONAL = ("holiday_calendar", "day_count.event_day", "day_count.roll")

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Shape:
    """How a value is typed in: ``text``, a comma-separated ``list``, or one of
    ``choices``; ``optional`` when it may be left empty (its default is none)."""

    kind: Literal["text", "list", "choice"] = "text"
    choices: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class Item:
    """One value the review asks for.

    Attributes:
        origin: ``read`` (the text states it), ``missing`` (the text does not: to be
            given or the standard's taken by choice), ``standard`` (an agreement's text
            does not carry it: prefilled from the standard) or ``optional``.
        standard: The standard's value at ``path``; None when it has none.
        deviation: How the figure read departs from the standard, or None.
    """

    path: str
    label: str
    origin: Origin
    shape: Shape
    group: str
    found: Found | None = None
    why: str | None = None
    standard: Any = None
    deviation: str | None = None

    @property
    def prefill(self) -> str:
        """What the input holds before the person types."""
        if self.origin == "read" and self.found is not None:
            return shown(self.found.value)
        return shown(self.standard) if self.origin == "standard" else ""

    @property
    def standard_shown(self) -> str:
        return shown(self.standard)


@dataclass(frozen=True)
class Entry:
    """What the person sent for one item: its text, and whether they ticked "use my
    standard's value" (offered for a missing figure)."""

    text: str = ""
    use_standard: bool = False


@dataclass(frozen=True)
class Decision:
    """A value of the accepted term sheet and how it came to be."""

    item: Item
    value: Any
    how: How


@dataclass
class Outcome:
    """The accepted term sheet with a decision per value; or, when it cannot be
    accepted, every field that is wrong (``errors``: path, message) and no term sheet."""

    terms: TermSheet | None = None
    decisions: list[Decision] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- values


def shown(value: Any) -> str:
    """A value as its input holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(shown(v) for v in value)
    return str(value)


def _parsed(text: str, shape: Shape) -> Any:
    # The model converts text to each field's type (numbers, dates, yes/no); only a list
    # is split here.
    if shape.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text.strip()


def _same_key(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, list | tuple):
        return tuple(_same_key(v) for v in value)
    if isinstance(value, int | float | Decimal) or (
        isinstance(value, str) and _NUMBER.fullmatch(value.strip())
    ):
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            return value
    return value.strip() if isinstance(value, str) else value


def same(a: Any, b: Any) -> bool:
    """Whether two values say the same: 30 and "30", "1" and "1.0" do."""
    return bool(_same_key(a) == _same_key(b))


def set_path(data: dict[str, Any], path: str, value: Any) -> str | None:
    """Sets a dotted path in ``data``, making the mappings on the way; the reason it
    cannot (a value, not a mapping, stands on the way), or None."""
    *parents, last = path.split(".")
    node = data
    for i, key in enumerate(parents):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            return f"{'.'.join(parents[: i + 1])} is a value, not a mapping of fields"
        node = child
    node[last] = value
    return None


def leaves(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every value of a term sheet's JSON by dotted path; a list is one value."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from leaves(value, f"{path}.")  # an empty mapping holds no value
        else:
            yield path, value


# ------------------------------------------------------------------ the model's fields


def _unwrapped(annotation: Any) -> Any:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrapped(inner[0]) if len(inner) == 1 else annotation
    if typing.get_origin(annotation) is typing.Annotated:
        return _unwrapped(typing.get_args(annotation)[0])
    return annotation


def _field(model: type[BaseModel], path: str) -> Any:
    """The pydantic field at a dotted path of ``model``; None when it has none."""
    node: Any = model
    info = None
    for key in path.split("."):
        if not (isinstance(node, type) and issubclass(node, BaseModel)):
            return None
        info = node.model_fields.get(key)
        if info is None:
            return None
        node = _unwrapped(info.annotation)
    return info


def shape_of(model: type[BaseModel], path: str) -> Shape:
    """How the value at ``path`` is typed in, from the model's field."""
    info = _field(model, path)
    if info is None:
        return Shape()
    annotation = _unwrapped(info.annotation)
    optional = not info.is_required() and info.get_default(call_default_factory=False) is None
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return Shape("choice", ("yes", "no"), optional)
    if origin is Literal:
        return Shape("choice", tuple(str(a) for a in typing.get_args(annotation)), optional)
    if origin is list or annotation is list:
        return Shape("list", optional=optional)
    return Shape(optional=optional)


def _words(key: str) -> str:
    return key.replace("_", " ").capitalize().replace("Sla ", "SLA ")


#: Labels clearer than a field's name in words.
_LABELS = {
    "our_side": "We are the",
    "copy_to": "Copy notices to",
    "attention": "For the attention of",
    "usage_fee_per_gb": "Usage fee per GB",
    "additional_services_hourly": "Additional services, per hour",
}


def label_of(model: type[BaseModel], path: str) -> str:
    """A value's label: a clause figure's declared one, else its name in words."""
    info = _field(model, path)
    name = path.rsplit(".", 1)[-1]
    if name in _LABELS:
        return _LABELS[name]
    if path.startswith("clauses.") and info is not None and info.description:
        return str(info.description)
    return _words(name)


_GROUPS = {"owner": "Our contract owner", "fees": "Fees (Exhibit B)"}


def group_of(path: str) -> str:
    """The heading a value is listed under on the review page."""
    parts = path.split(".")
    if parts[0] == "clauses":
        return _words(parts[1]) if len(parts) > 2 else "Clauses"
    if len(parts) == 1:
        return "The agreement"
    return _GROUPS.get(parts[0], _words(parts[0]))


# ---------------------------------------------------------------------------- review


def _derived(path: str) -> bool:
    return any(path == d or path.startswith(f"{d}.") for d in DERIVED)


def review_items(proposal: Proposal, standard: Mapping[str, Any]) -> list[Item]:
    """What the person reviews: the figures read, those missing, then every other value
    of the standard's term sheet (prefilled from it), then what they may add."""
    model = default_registry().term_sheet_model()
    departs = {d.path: d.text for d in deviations(proposal.figures, dict(standard))}
    items: list[Item] = []
    seen: set[str] = set()

    def add(item: Item) -> None:
        if item.path not in seen:
            seen.add(item.path)
            items.append(item)

    for f in proposal.figures:
        add(
            Item(
                f.path, f.label, "read", shape_of(model, f.path), group_of(f.path), found=f,
                standard=value_at(standard, f.path), deviation=departs.get(f.path),
            )
        )  # fmt: skip
    for m in proposal.missing:
        add(
            Item(
                m.path, m.label, "missing", shape_of(model, m.path), group_of(m.path),
                why=m.why, standard=value_at(standard, m.path),
            )
        )  # fmt: skip
    for path, value in leaves(standard):
        if not _derived(path):
            label, shape = label_of(model, path), shape_of(model, path)
            add(Item(path, label, "standard", shape, group_of(path), standard=value))
    for path in OPTIONAL:
        shape = dataclasses.replace(shape_of(model, path), optional=True)
        add(Item(path, label_of(model, path), "optional", shape, group_of(path)))
    return items


# ---------------------------------------------------------------------------- accept


def _missing_message(item: Item) -> str:
    said = f"the text does not state it ({item.why})" if item.why else "it is not read"
    if item.standard is None:
        return f"{said}: type its value"
    return f"{said}: type its value, or tick “use my standard's value: {shown(item.standard)}”"


def _chosen(item: Item, entry: Entry) -> tuple[bool, Any, str | None]:
    """Whether the item goes into the term sheet, its value, and what is wrong with it."""
    text = entry.text.strip()
    if item.origin == "missing":
        if entry.use_standard and text:
            return False, None, "type a value or tick “use my standard's value”, not both"
        if entry.use_standard:
            if item.standard is None:
                return False, None, "your standard has no value for it: type its value"
            return True, item.standard, None
        if not text:
            return False, None, _missing_message(item)
        return True, _parsed(text, item.shape), None
    if not text and item.shape.kind != "list":
        if item.shape.optional:
            return False, None, None  # left out, as the model allows
        said = f" (the text says {shown(item.found.value)})" if item.found else ""
        return False, None, f"cannot be left empty{said}: type the value you accept"
    return True, _parsed(text, item.shape), None


def _message(error: Any) -> str:
    kind, message = error["type"], str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of a term sheet"
    return message


def _how(item: Item, entry: Entry, value: Any) -> How:
    if item.origin == "read" and item.found is not None:
        return "read" if same(value, item.found.value) else "edited"
    if item.origin == "missing":
        return "standard" if entry.use_standard else "given"
    if item.origin == "standard" and same(value, item.standard):
        return "standard"
    return "given"


def accept(items: list[Item], entries: Mapping[str, Entry]) -> Outcome:
    """The term sheet the person's entries make, checked by the rulebooks' model, and how
    each of its values came to be; or every field that is wrong, by its path."""
    data: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    taken: list[Item] = []
    for item in items:
        entry = entries.get(item.path, Entry())
        keep, value, wrong = _chosen(item, entry)
        if wrong is None and keep:
            wrong = set_path(data, item.path, value)
        if wrong is not None:
            errors.append((item.path, wrong))
        elif keep:
            taken.append(item)
    named = {path for path, _ in errors}
    try:
        terms = default_registry().term_sheet_model().model_validate(data)
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            path = ".".join(str(p) for p in e["loc"]) or "term_sheet"
            if path not in named:
                errors.append((path, _message(e)))
        return Outcome(errors=errors)
    if errors:
        return Outcome(errors=errors)
    accepted = terms.model_dump(mode="json")
    decisions = []
    for item in taken:
        value = value_at(accepted, item.path)
        decisions.append(Decision(item, value, _how(item, entries.get(item.path, Entry()), value)))
    return Outcome(terms=terms, decisions=decisions)
