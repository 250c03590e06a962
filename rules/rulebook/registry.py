"""The registry of loaded rulebooks by clause and version, and the process's default
registry, loaded once from rules/clauses/.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contracts.terms import TermSheet
from rules.rulebook.checks.agreement import check_reactions_across
from rules.rulebook.errors import RulebookError, UnknownRulebook
from rules.rulebook.loader import load_rulebook
from rules.rulebook.model import Rulebook
from rules.rulebook.source import file_version
from rules.rulebook.terms import CLAUSES_DIR, declarations, term_sheet_model

#: How many completed term sheets a registry keeps (a worker runs a few contracts' cases).
_COMPLETED_KEPT = 256


class RulebookRegistry:
    """All rulebook versions of all clauses, loaded from ``<folder>/<clause>/``.

    Args:
        check_templates: Require every notice's templates (see :func:`load_rulebook`).
    """

    def __init__(self, *, check_templates: bool = True, require_senders: bool = False) -> None:
        self.check_templates = check_templates
        #: Whether the newest version of every clause must say whose each notice is
        #: (older versions, written before senders, keep running as they are).
        self.require_senders = require_senders
        self._books: dict[tuple[str, int], Rulebook] = {}
        self._lock = threading.Lock()
        self._term_sheet: type[TermSheet] | None = None
        #: Term sheets completed, by their canonical JSON: every step of every case of a
        #: contract completes the same one (addresses checked, defaults filled).
        self._completed: dict[str, TermSheet] = {}

    def load(self, folder: Path | str) -> list[Rulebook]:
        """Loads every ``<clause>/rulebook.v<N>.yaml`` under ``folder``.

        Args:
            folder: The clauses folder, such as ``rules/clauses``.

        Returns:
            The rulebooks loaded by this call, sorted by clause and version.

        Raises:
            RulebookError: A file is malformed, is named wrongly, or repeats a version.
            FileNotFoundError: ``folder`` does not exist.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"no rulebook folder {folder}")
        loaded: list[Rulebook] = []
        for file in sorted(folder.glob("*/rulebook*")):
            file_version(file)  # a misnamed file fails here, before it is read
            loaded.append(load_rulebook(file, check_templates=self.check_templates))
        for rulebook in loaded:
            self.add(rulebook)
        declarations(self.all())  # rulebooks that share a figure declare it alike
        check_reactions_across(self.all())  # what one case tells, another can record
        if self.require_senders:
            for clause in self.clauses():
                newest = self.latest(clause)
                if newest.notices and not newest.declares_senders:
                    raise RulebookError(
                        newest.path,
                        1,
                        f"{clause} v{newest.version} is the clause's newest version and its "
                        "notices do not say whose they are: give each a sender (customer, "
                        "provider, notifying_party, receiving_party or internal)",
                    )
        return sorted(loaded, key=lambda r: r.key)

    def add(self, rulebook: Rulebook) -> None:
        """Registers one loaded rulebook.

        Raises:
            RulebookError: The same clause and version is already registered.
        """
        with self._lock:
            existing = self._books.get(rulebook.key)
            if existing is not None and existing.path != rulebook.path:
                raise RulebookError(
                    rulebook.path,
                    1,
                    f"{rulebook.clause} version {rulebook.version} is already loaded from "
                    f"{existing.path}",
                )
            self._books[rulebook.key] = rulebook
            self._term_sheet = None
            self._completed = {}

    def get(self, clause: str, version: int) -> Rulebook:
        """The rulebook of ``clause`` at ``version``.

        Raises:
            UnknownRulebook: No such clause or version.
        """
        try:
            return self._books[(clause, version)]
        except KeyError:
            versions = self.versions(clause)
            if not versions:
                raise self._unknown_clause(clause) from None
            raise UnknownRulebook(
                f"no rulebook version {version!r} for clause {clause!r}; known versions: "
                f"{', '.join(map(str, versions))}"
            ) from None

    def latest(self, clause: str) -> Rulebook:
        """The highest version of ``clause``.

        Raises:
            UnknownRulebook: No rulebook for the clause.
        """
        versions = self.versions(clause)
        if not versions:
            raise self._unknown_clause(clause)
        return self._books[(clause, versions[-1])]

    def versions(self, clause: str) -> list[int]:
        """The loaded versions of ``clause``, ascending."""
        return sorted(v for c, v in self._books if c == clause)

    def clauses(self) -> list[str]:
        """The clauses with at least one rulebook, sorted."""
        return sorted({c for c, _ in self._books})

    def all(self) -> list[Rulebook]:
        """Every loaded rulebook, sorted by clause and version."""
        return [self._books[k] for k in sorted(self._books)]

    def term_sheet_model(self) -> type[TermSheet]:
        """The term sheet whose ``clauses`` carry every loaded rulebook's figures."""
        if self._term_sheet is None:
            self._term_sheet = term_sheet_model(self.all())
        return self._term_sheet

    def complete_terms(self, terms: TermSheet | Mapping[str, Any]) -> TermSheet:
        """A contract's term sheet, checked and with every declared default filled in.

        A term sheet stored before a rulebook declared a figure gets its default here.
        """
        model = self.term_sheet_model()
        if isinstance(terms, model):
            return terms  # completed already
        data = terms.model_dump(mode="json") if isinstance(terms, TermSheet) else terms
        return model.model_validate(data)

    def terms_to_read(self, terms: Mapping[str, Any]) -> TermSheet:
        """``complete_terms`` of a stored term sheet, checked once per content and shared:
        every step of every case of a contract reads the same one. Callers only read it
        (a caller that changes a term sheet takes ``complete_terms``, its own copy)."""
        key = json.dumps(terms, sort_keys=True, default=str)
        completed = self._completed.get(key)
        if completed is None:
            completed = self.complete_terms(terms)
            if len(self._completed) >= _COMPLETED_KEPT:
                self._completed.clear()
            self._completed[key] = completed
        return completed

    def _unknown_clause(self, clause: str) -> UnknownRulebook:
        return UnknownRulebook(
            f"no rulebook for clause {clause!r}; known clauses: "
            f"{', '.join(self.clauses()) or 'none'}"
        )


#: One loading at a time: the first calls come from many activity threads at once, and
#: each would otherwise read and check every rulebook itself.
_LOADING = threading.Lock()


def default_registry() -> RulebookRegistry:
    """The registry of ``rules/clauses``, loaded once per process (see ``_load_default``)."""
    with _LOADING:
        return _load_default()


@functools.cache
def _load_default() -> RulebookRegistry:
    """The registry of ``rules/clauses`` beside this package, loaded once per process.

    Templates are checked, so a missing notice template stops the worker at start; and
    every clause's newest version must say whose each notice is.
    """
    registry = RulebookRegistry(require_senders=True)
    registry.load(CLAUSES_DIR)
    return registry
