"""An agreement's outline: its numbered sections ("10. Term and Termination."), its
exhibits ("EXHIBIT A: SERVICE LEVEL AGREEMENTS") and their numbered items ("1. Uptime
Targets:"), and its sentences, each with its character offsets in the text. Markdown
bold (``**``) around headings is allowed; the text itself is never changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SECTION = re.compile(r"^(?:\*\*)?(?P<number>\d{1,3})\.\s+(?P<heading>[^*\n]+?)\.(?:\*\*)?\s", re.M)
_EXHIBIT = re.compile(
    r"^(?:\*\*)?EXHIBIT\s+(?P<number>[A-Z])\s*[:.\-–]\s*(?P<heading>[^*\n]+?)(?:\*\*)?\s*$",
    re.M | re.I,
)
_ITEM = re.compile(r"^(?P<number>\d{1,2})\.\s+(?P<heading>[^:\n]{1,80}):", re.M)
#: Words ending in a full stop that do not end a sentence.
_ABBREVIATIONS = (
    "U.S", "i.e", "e.g", "Inc", "Ltd", "No", "St", "Mr", "Ms", "Dr", "etc",
    # "5:00 p.m. Eastern Time" is one sentence.
    "a.m", "p.m",
)  # fmt: skip


@dataclass(frozen=True)
class Part:
    """A section, an exhibit or an exhibit's item.

    Attributes:
        kind: ``section``, ``exhibit`` or ``item``.
        number: "10", "A", or "A.1" for an exhibit's first item.
        heading: "Term and Termination".
        start: Where its heading starts.
        end: Where the next part of its level (or the text) starts.
        body: Where its text starts, after the heading.
    """

    kind: str
    number: str
    heading: str
    start: int
    end: int
    #: Where its text starts, after the heading.
    body: int

    @property
    def reference(self) -> str:
        """As a term sheet cites it: "§10", "Exhibit A", "Exhibit A.1"."""
        return f"§{self.number}" if self.kind == "section" else f"Exhibit {self.number}"


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def outline(text: str) -> list[Part]:
    """Sections, exhibits and exhibits' items, in the order of the text. An exhibit's
    items are numbered like sections, so sections are read before the first exhibit only."""
    exhibits = list(_EXHIBIT.finditer(text))
    first_exhibit = exhibits[0].start() if exhibits else len(text)
    heads = [("section", m) for m in _SECTION.finditer(text, 0, first_exhibit)]
    heads += [("exhibit", m) for m in exhibits]
    parts: list[Part] = []
    for index, (kind, m) in enumerate(heads):
        end = heads[index + 1][1].start() if index + 1 < len(heads) else len(text)
        number, heading = m.group("number").upper(), m.group("heading").strip()
        parts.append(Part(kind, number, heading, m.start(), end, m.end()))
        if kind == "exhibit":
            parts += _items(text, number, m.end(), end)
    return parts


def _items(text: str, exhibit: str, start: int, end: int) -> list[Part]:
    found = list(_ITEM.finditer(text, start, end))
    return [
        Part(
            "item",
            f"{exhibit}.{m.group('number')}",
            m.group("heading").strip(),
            m.start(),
            found[i + 1].start() if i + 1 < len(found) else end,
            m.end(),
        )
        for i, m in enumerate(found)
    ]


def part_at(parts: list[Part], offset: int) -> Part | None:
    """The most specific part holding ``offset`` (an item before its exhibit)."""
    holding = [p for p in parts if p.start <= offset < p.end]
    return min(holding, key=lambda p: p.end - p.start, default=None)


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """The sentences of ``text[start:end]``, split after a full stop followed by a capital,
    except after an abbreviation ("U.S. Department"), and at a blank line: a sentence
    never runs on into the next paragraph (a header line, an address block's line)."""
    end = len(text) if end is None else end
    out, begin = [], start
    for m in re.finditer(r"[.!?](?=\s+[\"“(]?[A-Z*])|\n[ \t]*(?=\n)", text[start:end]):
        stop = start + m.end()
        if m.group(0).startswith("\n"):
            if text[begin:stop].strip():
                out.append(_sentence(text, begin, stop))
            begin = stop
            continue
        before = (
            text[begin : stop - 1].rsplit(None, 1)[-1] if text[begin : stop - 1].split() else ""
        )
        if before.lstrip('("“') in _ABBREVIATIONS or re.fullmatch(r"[A-Z]", before):
            continue
        out.append(_sentence(text, begin, stop))
        begin = stop
    if text[begin:end].strip():
        out.append(_sentence(text, begin, end))
    return [s for s in out if s.text]


def _sentence(text: str, start: int, end: int) -> Sentence:
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip())
    body = raw.strip()
    return Sentence(start + lead, start + lead + len(body), body)


def sentence_at(text: str, offset: int, parts: list[Part]) -> Sentence | None:
    """The sentence that holds ``offset``, split within its part."""
    part = part_at(parts, offset)
    begin, stop = (part.body, part.end) if part else (0, parts[0].start if parts else len(text))
    return next((s for s in sentences(text, begin, stop) if s.start <= offset < s.end), None)


def heading_line(text: str, part: Part) -> Sentence:
    """A part's heading as a sentence of its own ("**10. Term and Termination.**")."""
    return _sentence(text, part.start, part.body)


def own_text(text: str, parts: list[Part]) -> list[tuple[Part | None, int, int]]:
    """Each part's own text, without the items under it, and the head of the agreement
    before its first part (``None``): every character once, in order."""
    heads = [p.start for p in parts] + [len(text)]
    out: list[tuple[Part | None, int, int]] = [(None, 0, heads[0])]
    out += [(p, p.body, min(p.end, heads[i + 1])) for i, p in enumerate(parts)]
    return out


def line_at(text: str, offset: int) -> Sentence:
    """The line that holds ``offset``, as a sentence: a header line ("Customer: Acme
    Corp") is a sentence of its own."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return _sentence(text, start, len(text) if end < 0 else end)
