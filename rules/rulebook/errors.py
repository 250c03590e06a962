"""The errors of rulebooks, and the "did you mean" hint that ends many of their reasons.

:class:`RulebookError` names the file, the line and the reason; :class:`UnknownRulebook`
is a clause or version the registry does not hold; :class:`ParameterError` is a term
sheet value that a rulebook cannot use.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any


class RulebookError(ValueError):
    """A rulebook that cannot be used, with the file and line where the problem is.

    Attributes:
        file: The rulebook file.
        line: The 1-based line of the offending YAML node (1 when the file as a whole is
            at fault).
        reason: What is wrong, in words.
    """

    def __init__(self, file: Path | str, line: int, reason: str) -> None:
        self.file = Path(file)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.file}:{line}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.line, self.reason))


class UnknownRulebook(KeyError):
    """No rulebook is registered for a clause (and version)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class ParameterError(ValueError):
    """A parameter value that a rulebook needs is missing or of the wrong kind."""


def did_you_mean(word: str, choices: Any) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``; ``""`` if none is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
