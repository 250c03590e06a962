"""Agreements as the files people send: a Word document made with python-docx, and a
minimal PDF written by hand (its text in Helvetica, as a word processor's export has
it), so that no office suite is needed. Markdown bold (``**``) becomes bold runs in the
DOCX and is dropped from the PDF."""

from __future__ import annotations

import io
import re

import docx


def docx_of(text: str, *, numbered_by_word: bool = False) -> bytes:
    """A Word document with a paragraph for each of ``text``'s blank-line-separated
    paragraphs. ``numbered_by_word``: the sections' numbers ("**10. Term") are not typed
    but a Word numbered list's ("List Number"), as many agreements are written."""
    document = docx.Document()
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        numbered = re.match(r"\*\*\d+\.\s+", paragraph)
        if numbered_by_word and numbered:
            paragraph = "**" + paragraph[numbered.end() :]
        p = document.add_paragraph(style="List Number" if numbered_by_word and numbered else None)
        for i, piece in enumerate(paragraph.split("**")):
            if piece:
                p.add_run(piece).bold = i % 2 == 1
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_of(text: str, lines_per_page: int = 40) -> bytes:
    """A PDF with a line of text for each of ``text``'s lines (ASCII only)."""
    lines = text.replace("**", "").split("\n")
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "",  # the page tree, once the pages are numbered
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids = []
    for page in pages:
        shown = " ".join(f"({_escaped(line)}) Tj T*" for line in page)
        stream = f"BT /F1 10 Tf 12 TL 40 800 Td {shown} ET"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {len(objects)} 0 R >>"
        )
        kids.append(len(objects))
    refs = " ".join(f"{k} 0 R" for k in kids)
    objects[1] = f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>"
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{obj}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _escaped(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
