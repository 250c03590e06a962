"""An uploaded agreement as the plain text the proposal reads (issue 16, part 1): plain
text, DOCX (python-docx) or PDF (pypdf).

Pure: bytes in, text out. Offsets in a proposal are offsets into this text. A DOCX's
paragraphs become lines separated by blank lines, so that the outline finds its
sections ("10. Term and Termination."), with the numbers Word adds to a numbered list
written out; its bold and italics are dropped. A PDF's pages
are joined by a blank line.
"""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import Any

import docx
import pypdf
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

#: The kinds of file an agreement may come in, by suffix.
TEXT_SUFFIXES = (".txt", ".md", ".text", "")
DOCX_SUFFIXES = (".docx",)
PDF_SUFFIXES = (".pdf",)
#: What to send, for a refusal's message.
KINDS = "plain text (.txt), Word (.docx) or PDF (.pdf)"


class DocumentError(ValueError):
    """The file cannot be read as an agreement; the message says why and what to send."""


def text_of(name: str, data: bytes) -> str:
    """The agreement's text.

    Raises:
        DocumentError: Not a kind of file it reads, or not readable as one.
    """
    suffix = PurePath(name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        text = _plain(data)
    elif suffix in DOCX_SUFFIXES:
        text = _docx(data)
    elif suffix in PDF_SUFFIXES:
        text = _pdf(data)
    else:
        raise DocumentError(f"{name}: send the agreement as {KINDS}")
    if not text.strip():
        raise DocumentError(f"{name}: the file holds no text" + _SCAN_HINT.get(suffix, ""))
    return text


_SCAN_HINT = {".pdf": " (a scanned PDF has only images: send the Word file or a PDF with text)"}


def _plain(data: bytes) -> str:
    if b"\x00" in data:
        raise DocumentError("the file holds binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"the file is not UTF-8 text (byte {exc.start})") from None


def _docx(data: bytes) -> str:
    try:
        document = docx.Document(io.BytesIO(data))
        numbers = _Numbering(document)
        blocks = [_block(b, numbers) for b in document.iter_inner_content()]
    except Exception as exc:
        # python-docx raises whatever its zip and XML readers raise on a damaged file.
        raise DocumentError(f"the file is not a readable Word document (.docx): {exc}") from None
    return "\n\n".join(b for b in blocks if b.strip()) + "\n"


def _block(block: Paragraph | Table, numbers: _Numbering) -> str:
    if isinstance(block, Paragraph):
        label = numbers.label(block)
        return f"{label} {block.text}" if label else block.text
    # A table's row is a line: "Monthly fee; $25,000.00".
    return "\n\n".join(
        "; ".join(cell.text.strip() for cell in row.cells if cell.text.strip())
        for row in block.rows
    )


class _Numbering:
    """The numbers Word puts before a numbered list's paragraphs ("10.", "A."), which are
    not in their text: without them the outline would find no section of an agreement
    numbered that way. Levels and formats from the document's numbering definitions;
    bullets give none."""

    def __init__(self, document: DocxDocument) -> None:
        self._root = document.part.numbering_part.element
        self._counts: dict[str, list[int | None]] = {}
        self._restarted: set[str] = set()

    def label(self, paragraph: Paragraph) -> str:
        where = _numbered(paragraph)
        if where is None:
            return ""
        num_id, level = where
        num = self._root.find(f"{_W}num[@{_W}numId='{num_id}']")
        abstract_id = _val(num.find(f"{_W}abstractNumId")) if num is not None else None
        abstract = self._root.find(f"{_W}abstractNum[@{_W}abstractNumId='{abstract_id}']")
        if abstract is None:
            return ""
        levels = {_val(lvl, "ilvl"): lvl for lvl in abstract.findall(f"{_W}lvl")}
        counts = self._counts.setdefault(abstract_id or "", [None] * 9)
        starts = {int(k): _start(v) for k, v in levels.items() if k and k.isdigit()}
        for override in num.findall(f"{_W}lvlOverride") if num is not None else []:
            start = override.find(f"{_W}startOverride")
            key = f"{num_id}:{_val(override, 'ilvl')}"
            if start is not None and key not in self._restarted:
                # A list Word restarted ("1." again): the override holds its first number.
                self._restarted.add(key)
                counts[int(_val(override, "ilvl") or 0)] = None
                starts[int(_val(override, "ilvl") or 0)] = int(_val(start) or 1)
        current = counts[level]
        counts[level] = starts.get(level, 1) if current is None else current + 1
        counts[level + 1 :] = [None] * (8 - level)
        lvl = levels.get(str(level))
        if lvl is None or _val(lvl.find(f"{_W}numFmt")) in ("bullet", "none"):
            return ""
        text = _val(lvl.find(f"{_W}lvlText")) or ""
        for i in range(level + 1):
            fmt = levels.get(str(i))
            seen = counts[i]
            count = seen if seen is not None else starts.get(i, 1)
            shown = _formatted(count, _val(fmt.find(f"{_W}numFmt")) if fmt is not None else None)
            text = text.replace(f"%{i + 1}", shown)
        return text.strip()


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _val(element: Any, name: str = "val") -> str | None:
    return None if element is None else element.get(f"{_W}{name}")


def _start(lvl: Any) -> int:
    return int(_val(lvl.find(f"{_W}start")) or 1)


def _numbered(paragraph: Paragraph) -> tuple[str, int] | None:
    """The list and level of a numbered paragraph: its own, or its style's (and the
    styles that style is based on)."""
    # python-docx's XML classes are untyped below the paragraph.
    p_pr: Any = paragraph._p.pPr
    num_pr: Any = p_pr.numPr if p_pr is not None else None
    style = paragraph.style
    while num_pr is None and style is not None:
        style_pr: Any = style.element.pPr
        num_pr = style_pr.numPr if style_pr is not None else None
        style = style.base_style
    if num_pr is None or num_pr.numId is None or num_pr.numId.val == 0:
        return None
    level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
    return str(num_pr.numId.val), min(int(level), 8)


def _formatted(n: int, fmt: str | None) -> str:
    if fmt in ("upperLetter", "lowerLetter"):
        letters = ""
        while n > 0:
            n, rest = divmod(n - 1, 26)
            letters = chr(ord("A") + rest) + letters
        return letters if fmt == "upperLetter" else letters.lower()
    if fmt in ("upperRoman", "lowerRoman"):
        roman = _roman(n)
        return roman if fmt == "upperRoman" else roman.lower()
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for value, numeral in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):  # fmt: skip
        count, n = divmod(n, value)
        out += numeral * count
    return out


def _pdf(data: bytes) -> str:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("the PDF is protected by a password: send it unprotected")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except Exception as exc:
        # pypdf raises its own errors, and others of the bytes it parses, on a damaged file.
        raise DocumentError(f"the file is not a readable PDF: {exc}") from None
    return "\n\n".join(p.strip("\n") for p in pages if p.strip()) + "\n"
