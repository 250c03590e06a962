"""Blanks a form leaves for the parties to fill in: "__________", "[Name of Customer]",
"<amount>", "TBD". A blank is never read as the value it stands for."""

from __future__ import annotations

import re

#: A run of underscores, or a bracketed placeholder, or words that say "to be filled".
BLANK = re.compile(r"_{3,}|\[[^\]\n]{0,80}\]|<[^>\n]{0,80}>|\bTBD\b|\bTBC\b|\[\s*\]")


def is_blank(written: str) -> bool:
    """Whether ``written`` is a blank rather than a value: empty of letters and digits
    besides a placeholder ("[Name of CPaaS/IT Vendor]", "$__________")."""
    rest = BLANK.sub("", written)
    return bool(BLANK.search(written)) and not re.search(r"[A-Za-z0-9]", rest)
