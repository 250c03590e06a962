"""A released rulebook version never changes: live cases are pinned to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.release import file_hash, key, released
from rules.rulebook import default_registry

RULEBOOKS = default_registry().all()


def test_every_rulebook_version_is_released() -> None:
    missing = [
        key(rb.clause, rb.version)
        for rb in RULEBOOKS
        if key(rb.clause, rb.version) not in released()
    ]
    assert not missing, (
        f"{missing} are not recorded as released: run `python -m rules.release` once the "
        "version is ready for cases"
    )


@pytest.mark.parametrize("rulebook", RULEBOOKS, ids=lambda rb: key(rb.clause, rb.version))
def test_a_released_rulebook_file_is_unchanged(rulebook) -> None:  # type: ignore[no-untyped-def]
    recorded = released().get(key(rulebook.clause, rulebook.version))
    path = Path(rulebook.path)
    assert recorded is None or file_hash(path) == recorded, (
        f"{path} changed after it was released, but live cases run on version "
        f"{rulebook.version}. Put the change in rulebook.v{rulebook.version + 1}.yaml instead "
        "(docs/shipping-changes.md)."
    )


def test_the_check_notices_an_edit(tmp_path: Path) -> None:
    rb = RULEBOOKS[0]
    edited = tmp_path / "rulebook.v1.yaml"
    edited.write_bytes(Path(rb.path).read_bytes() + b"\n# an innocent-looking edit\n")
    assert file_hash(edited) != released()[key(rb.clause, rb.version)]
