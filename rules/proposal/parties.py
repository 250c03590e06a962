"""The parties and where notice to each goes, read from the agreement's text.

A party's name comes from a header line at the head of the agreement ("Customer: Acme
Corp") or from the sentence that makes it ('between Acme Corp ("Customer") and Beta LLC
("Provider")'), whatever the agreement calls it: a Client is the Customer, a Vendor,
Supplier or Service Provider the Provider. Its notice address comes from a sentence
that says notices to it go to an email address, or an address block after "If to
Customer:" in a section headed Notices; a copy and an attention line where stated. A
blank the form leaves ("[Name of ...]", "______") is missing, never read as a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts.text.blanks import BLANK, is_blank
from contracts.text.outline import line_at, own_text
from rules.proposal.found import Found, Missing, Place, Proposal

ROLES = ("Customer", "Provider")
#: The words agreements use for each party, by the term sheet's role they name.
ROLE_WORDS = {
    "Customer": "Customer", "Client": "Customer",
    "Provider": "Provider", "Service Provider": "Provider", "Vendor": "Provider",
    "Supplier": "Provider",
}  # fmt: skip
_ROLE = "Service Provider|Customer|Client|Provider|Vendor|Supplier"

#: "**Customer:** Acme Corp" on a line of its own, at the head of the agreement.
_HEADER = re.compile(rf"^[ \t*]*(?P<role>{_ROLE})[ \t*]*:[ \t*]*(?P<name>[^\n]*?)[ \t*]*$", re.M)
_ROLE_IN_BRACKETS = r"\(\s*(?:the\s+)?[\"“]?(?P<{name}>" + _ROLE + r")[\"”]?\s*\)"
#: 'between Acme Corp, a Delaware corporation ("Customer"), and Beta LLC ("Provider")'.
_BETWEEN = re.compile(
    r"\bbetween\s+(?P<first>[^()\n]{1,200}?)\s*" + _ROLE_IN_BRACKETS.format(name="first_role")
    + r"\s*,?\s*and\s+(?P<second>[^()\n]{1,200}?)\s*"
    + _ROLE_IN_BRACKETS.format(name="second_role")
)  # fmt: skip
#: What follows a name and is not part of it: ", a Delaware corporation".
_DESCRIBED = re.compile(r",\s*(?:a|an|with|whose|having)\s.*$", re.S)

#: Where notice to a party is named: "to Customer", "If to the Provider:", "Customer's
#: address for notices".
_NOTICE_TO = re.compile(
    rf"\b(?:to|for)\s+(?:the\s+)?(?P<role>{_ROLE})\b(?!['’]s)"
    rf"|\b(?P<owner>{_ROLE})['’]s\s+(?:notice|address|e-?mail)"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_COPY = re.compile(r"\b(?:cop(?:y|ies)|cc)\b", re.IGNORECASE)
_ATTENTION = re.compile(
    r"\b(?:Attention|Attn\.?)(?:\s+of)?\s*:?\s*(?P<who>[^,;()\n]+?)\s*(?=[,;()\n]|\.(?:\s|$)|$)"
)


@dataclass(frozen=True)
class _Named:
    role: str
    start: int
    end: int
    how: str


def _label(role: str, what: str) -> str:
    return f"The {role}'s {what}"


def parties(place: Place, result: Proposal) -> None:
    """Both parties' names and notice addresses, into ``result``."""
    for role in ROLES:
        result.add(_name(place, role))
        _notices(place, role, result)


def _names(place: Place) -> list[_Named]:
    text, parts = place.text, place.parts
    head_end = parts[0].start if parts else len(text)
    out = [
        _Named(
            ROLE_WORDS[m.group("role")],
            m.start("name"),
            m.end("name"),
            f'the "{m.group("role")}:" line',
        )
        for m in _HEADER.finditer(text, 0, head_end)
        if m.group("name").strip()
    ]
    for m in _BETWEEN.finditer(text):
        for which in ("first", "second"):
            start, end = m.start(which), m.end(which)
            words = _DESCRIBED.sub("", text[start:end])
            lead = len(words) - len(words.lstrip(' "“*'))
            words = words.strip(' "”*,')
            out.append(
                _Named(
                    ROLE_WORDS[m.group(f"{which}_role")],
                    start + lead, start + lead + len(words.strip()),
                    "the sentence that makes the agreement",
                )
            )  # fmt: skip
    return out


def _name(place: Place, role: str) -> Found | Missing:
    path, label = f"{role.lower()}.name", _label(role, "name")
    named = [n for n in _names(place) if n.role == role]
    filled = [n for n in named if not is_blank(place.text[n.start : n.end])]
    if not filled:
        if named:
            n = named[0]
            return Missing(
                path, label,
                f'left blank in the text: "{place.text[n.start : n.end]}" on {n.how}'
                f" ({place.where(n.start)})",
            )  # fmt: skip
        return Missing(
            path, label,
            f'no "{role}:" line at the head of the agreement and no sentence'
            f' "between ... (\\"{role}\\")"',
        )  # fmt: skip
    first = filled[0]
    value = place.text[first.start : first.end]
    others = {place.text[n.start : n.end] for n in filled[1:]} - {value}
    unsure = f"the text also names the {role} {', '.join(sorted(others))}" if others else None
    sentence = line_at(place.text, first.start) if "line" in first.how else None
    return place.found(path, label, value, first.start, first.end, sentence=sentence, unsure=unsure)


@dataclass(frozen=True)
class _Segment:
    """Where the text speaks of notice to one party: from its naming to the next."""

    role: str
    start: int
    end: int


def _segments(place: Place) -> list[_Segment]:
    text, out = place.text, []
    for part, lo, hi in own_text(text, place.parts):
        notices_part = part is not None and "notice" in part.heading.lower()
        named = []
        for m in _NOTICE_TO.finditer(text, lo, hi):
            sentence = place.sentence_at(m.start())
            said = sentence.text.lower() if sentence else ""
            if notices_part or "notice" in said:
                named.append((m, sentence))
        for i, (m, sentence) in enumerate(named):
            end = named[i + 1][0].start() if i + 1 < len(named) else hi
            if not notices_part and sentence is not None:
                # Outside a section of notices, a sentence speaks only for itself.
                end = min(end, sentence.end)
            out.append(_Segment(ROLE_WORDS[m.group("role") or m.group("owner")], m.end(), end))
    return out


def _notices(place: Place, role: str, result: Proposal) -> None:
    text, lower = place.text, role.lower()
    label = _label(role, "email address for notices")
    path = f"{lower}.notice_email"
    segments = [s for s in _segments(place) if s.role == role]
    for seg in segments:
        emails = list(_EMAIL.finditer(text, seg.start, seg.end))
        if not emails:
            continue
        copy = _COPY.search(text, seg.start, seg.end)
        cut = copy.start() if copy else seg.end
        main = [e for e in emails if e.start() < cut] or emails[:1]
        copies = [e for e in emails if e.start() > cut and e not in main]
        first = main[0]
        unsure = None
        if len(main) > 1:
            unsure = "notices also go to " + ", ".join(e.group(0) for e in main[1:])
        result.add(
            place.found(path, label, first.group(0), first.start(), first.end(), unsure=unsure)
        )
        if copies:
            result.add(
                place.found(
                    f"{lower}.copy_to", _label(role, "copies of notices"),
                    [e.group(0) for e in copies], copies[0].start(), copies[-1].end(),
                )
            )  # fmt: skip
        attention = _ATTENTION.search(text, seg.start, seg.end)
        if attention and not is_blank(attention.group("who")):
            result.add(
                place.found(
                    f"{lower}.attention", _label(role, "attention line for notices"),
                    attention.group("who"), attention.start("who"), attention.end("who"),
                )
            )  # fmt: skip
        return
    blank = next((b for s in segments for b in BLANK.finditer(text, s.start, s.end)), None)
    if blank is not None:
        why = f'left blank in the text: "{blank.group(0)}" ({place.where(blank.start())})'
    else:
        why = f'no sentence says notices to the {role} go to an email address ("to {role}")'
    result.add(Missing(path, label, why))
