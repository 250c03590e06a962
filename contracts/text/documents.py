"""An uploaded agreement as the plain text the proposal reads (issue 16, part 1).

Pure: bytes in, text out. Offsets in a proposal are offsets into this text.
"""

from __future__ import annotations

from pathlib import PurePath

#: The kinds of file an agreement may come in, by suffix.
TEXT_SUFFIXES = (".txt", ".md", ".text", "")


class DocumentError(ValueError):
    """The file cannot be read as an agreement; the message says why and what to send."""


def text_of(name: str, data: bytes) -> str:
    """The agreement's text.

    Raises:
        DocumentError: Not a kind of file it reads, or not readable as one.
    """
    suffix = PurePath(name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _plain(data)
    raise DocumentError(f"{name}: send the agreement as plain text (.txt)")


def _plain(data: bytes) -> str:
    if b"\x00" in data:
        raise DocumentError("the file holds binary data, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"the file is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise DocumentError("the file is empty")
    return text
