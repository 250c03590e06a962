"""What a proposal holds: each figure found in the agreement's text with its section
and exact sentence, and each figure not found with why."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.text.outline import Part, Sentence, sentences


@dataclass(frozen=True)
class Found:
    """A figure found in the text.

    Attributes:
        path: Its place in the term sheet (``clauses.payment.payment_days``).
        value: What the text says, as a term sheet takes it (dates as ISO strings,
            money as decimal strings).
        part: Where it stands ("§10", "Exhibit A.1"); None at the head of the agreement.
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
    """A figure the text does not state: ``why`` says what was looked for, or where the
    text leaves it blank."""

    path: str
    label: str
    why: str


@dataclass
class Proposal:
    figures: list[Found] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)

    def add(self, found: Found | Missing | None) -> None:
        if isinstance(found, Found):
            self.figures.append(found)
        elif isinstance(found, Missing):
            self.missing.append(found)


@dataclass(frozen=True)
class Place:
    """Where words stand in a text: their offsets, the sentence that holds them, and
    the part it is in."""

    text: str
    parts: list[Part]
    #: Each part's sentences and where they start, split once: a long text has many
    #: figures in one part.
    _split: dict[tuple[int, int], tuple[list[int], list[Sentence]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _index: dict[str, list[int]] = field(default_factory=dict, compare=False, repr=False)

    def part_at(self, offset: int) -> Part | None:
        """The most specific part that holds ``offset`` (as ``outline.part_at``): the
        last to start at or before it, since parts are in the order of the text and an
        exhibit's items follow it."""
        if "starts" not in self._index:
            self._index["starts"] = [p.start for p in self.parts]
        at = bisect.bisect_right(self._index["starts"], offset) - 1
        part = self.parts[at] if at >= 0 else None
        return part if part is not None and offset < part.end else None

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence that holds ``offset``, split within its part (as
        ``contracts.text.outline.sentence_at``)."""
        part = self.part_at(offset)
        if part is not None:
            key = (part.body, part.end)
        else:
            key = (0, self.parts[0].start if self.parts else len(self.text))
        if key not in self._split:
            split = sentences(self.text, *key)
            self._split[key] = ([s.start for s in split], split)
        starts, split = self._split[key]
        at = bisect.bisect_right(starts, offset) - 1
        if at >= 0 and split[at].start <= offset < split[at].end:
            return split[at]
        return None

    def found(
        self,
        path: str,
        label: str,
        value: Any,
        start: int,
        end: int,
        *,
        sentence: Sentence | None = None,
        unsure: str | None = None,
    ) -> Found:
        """A figure whose words are ``text[start:end]``, in ``sentence`` (by default the
        sentence that holds them)."""
        said = sentence or self.sentence_at(start)
        if said is None or not said.start <= start < end <= said.end:
            said = Sentence(start, end, self.text[start:end])
        part = self.part_at(start)
        return Found(
            path, label, value, part.reference if part else None, said.text, said.start,
            said.end, start, end, self.text[start:end], unsure,
        )  # fmt: skip

    def where(self, offset: int) -> str:
        """Where ``offset`` stands, for a reason: "§12", or "at the head of the agreement"."""
        part = self.part_at(offset)
        return part.reference if part else "at the head of the agreement"


def value_at(data: Mapping[str, Any], path: str) -> Any:
    """The value at a term sheet's dotted path (``clauses.payment.payment_days``); None
    when there is none."""
    node: Any = data
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node
