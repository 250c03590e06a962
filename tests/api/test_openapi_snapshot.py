"""The API's contract only grows: the OpenAPI document keeps everything it had.

tests/api/snapshots/openapi.json is the document as it stood before the redesign of the
house (issue 13). A refactor may add paths, operations, parameters, responses, schemas
and fields; it may not remove or change what clients already rely on. After a deliberate,
reviewed change of the API, write the snapshot again:

    .venv/bin/python -m tests.api.test_openapi_snapshot
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api.main import create_app

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"


def _removed(before: Any, after: Any, path: str = "") -> list[str]:
    """What ``before`` has that ``after`` lacks or holds differently (additions are fine)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key, value in before.items():
            where = f"{path}/{key}"
            if key not in after:
                found.append(f"{where}: removed")
            else:
                found += _removed(value, after[key], where)
        return found
    if isinstance(before, list) and isinstance(after, list):
        # Parameters are told apart by where and what they are: each old one must still
        # be there, and may gain keys (a bound, a description) like any other object.
        found = []
        for item in before:
            if item in after:
                continue
            same = [a for a in after if _parameter_key(a) == _parameter_key(item) is not None]
            if same:
                found += _removed(item, same[0], f"{path}/{_parameter_key(item)}")
            else:
                # Required names, enums and the like: every old item must still be there.
                found.append(f"{path}: lost {item!r}")
        return found
    return [] if before == after else [f"{path}: {before!r} became {after!r}"]


def _parameter_key(item: Any) -> tuple[str, str] | None:
    if isinstance(item, dict) and "in" in item and "name" in item:
        return (item["in"], item["name"])
    return None


def test_the_openapi_document_keeps_everything_it_had() -> None:
    before = json.loads(SNAPSHOT.read_text())
    after = json.loads(json.dumps(create_app().openapi()))
    assert _removed(before, after) == []


def test_the_comparison_sees_a_removed_field_and_a_changed_type() -> None:
    before = {"a": {"type": "string", "required": ["x", "y"]}, "b": 1}
    after = {"a": {"type": "integer", "required": ["x"]}, "c": 2}
    assert _removed(before, after) == [
        "/a/type: 'string' became 'integer'",
        "/a/required: lost 'y'",
        "/b: removed",
    ]
    assert _removed(before, {**before, "added": True}) == []


def test_a_parameter_may_gain_bounds_but_not_lose_or_change_its_type() -> None:
    old = {"in": "path", "name": "id", "schema": {"type": "integer"}}
    bounded = {"in": "path", "name": "id", "schema": {"type": "integer", "maximum": 9}}
    assert _removed([old], [bounded]) == []
    assert _removed([old], [{**old, "schema": {"type": "string"}}]) == [
        "/('path', 'id')/schema/type: 'integer' became 'string'"
    ]
    assert _removed([old], [{**old, "name": "other"}]) == [f": lost {old!r}"]


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(create_app().openapi(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
