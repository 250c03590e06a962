"""Loading one rulebook file: read it, parse its YAML with lines (source.py), validate it
against rules/schema/rulebook.schema.json (in the schema's own words where it has them),
build the model (model.py) and check what it names (checks.py).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import ValidationError

from rules.rulebook.checks import check_rulebook
from rules.rulebook.errors import RulebookError, did_you_mean
from rules.rulebook.model import Rulebook
from rules.rulebook.source import Lines, compose

# rules/schema/, beside this package.
SCHEMA_PATH = Path(__file__).parent.parent / "schema" / "rulebook.schema.json"


def _where(path: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the rulebook"


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _schema_error(path: Path, lines: Lines, data: Any) -> RulebookError | None:
    errors = list(_validator().iter_errors(data))
    if not errors:
        return None
    located = [(_locate_schema_error(lines, e), e) for e in errors]
    # Report the first problem in the file; ties go to the most specific error.
    (line, reason), _ = min(located, key=lambda le: (le[0][0], -len(le[1].path)))
    return RulebookError(path, line, reason)


def _locate_schema_error(lines: Lines, error: jsonschema.ValidationError) -> tuple[int, str]:
    error_path = list(error.path)
    custom = _x_error(error)
    if error.validator in ("oneOf", "anyOf") and not custom and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            error = best
            custom = _x_error(error)
            error_path += list(error.relative_path)
    where = _where(error_path)
    message = custom.format(instance=error.instance) if custom else error.message
    if "propertyNames" in error.schema_path:
        return lines.key_line(error_path, str(error.instance)), f"{where}: {message}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        if extras:
            hint = did_you_mean(str(extras[0]), allowed)
            return (
                lines.key_line(error_path, str(extras[0])),
                f"{where}: unknown key {extras[0]!r}{hint}",
            )
    return lines.line(error_path), f"{where}: {message}"


def _x_error(error: jsonschema.ValidationError) -> str | None:
    """The schema's own wording for this error (its ``x-error``), if it has one."""
    return error.schema.get("x-error") if isinstance(error.schema, dict) else None


def load_rulebook(path: Path | str, check_templates: bool = True) -> Rulebook:
    """Loads and checks one rulebook file.

    Args:
        path: ``.../<clause>/rulebook.v<N>.yaml``; the folder name must equal ``clause``
            and ``N`` must equal ``version``.
        check_templates: Also require ``notices/<notice>.txt.j2`` and ``.html.j2`` next to
            the rulebook for every declared notice.

    Returns:
        The rulebook.

    Raises:
        RulebookError: The file is missing, is not valid YAML, breaks the schema, or
            refers to something it does not declare. The error names file and line.
    """
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulebookError(path, 1, f"cannot read the rulebook: {exc.strerror or exc}") from exc
    root, data = compose(path, text)
    lines = Lines(root)
    schema_error = _schema_error(path, lines, data)
    if schema_error is not None:
        raise schema_error
    try:
        rulebook = Rulebook.model_validate({**data, "path": path, "folder": path.parent})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first["loc"])
        raise RulebookError(path, lines.line(loc), f"{_where(loc)}: {first['msg']}") from exc
    check_rulebook(rulebook, lines, check_templates)
    return rulebook
