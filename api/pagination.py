"""Counting and paging a filtered query, the same way for every list endpoint.

A list pages by ``offset`` (every list), or by ``cursor`` where it keeps a total order
(``GET /api/cases``): a cursor is the position of the last row of the page before, so
the next page is read from there with no OFFSET, and a deep page costs what the first
does. Clients treat a cursor as opaque; here it is the row's sort key and id as JSON,
in URL-safe base64.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlmodel import Session, func, select

from api.ops import CaseKey
from api.schemas import MAX_OFFSET

T = TypeVar("T")
Answer = TypeVar("Answer", bound=BaseModel)

#: The paging parameters of every list endpoint: ``limit: Limit = 50, offset: Offset = 0``.
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]

#: The longest cursor a list accepts (one it gives is far shorter).
MAX_CURSOR = 400
#: The cursor parameter of a list that pages by cursor: ``cursor: Cursor = None``.
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        description="Where the page starts: the `next_cursor` of the page before. "
        "A page asked by cursor costs what the first page does, however deep; "
        "with a cursor, `offset` must be 0",
    ),
]


def encode_cursor(*key: str | int | None) -> str:
    """The opaque cursor of a row's position: its sort key and id, JSON in base64."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor(cursor: str, why: str, name: str = "cursor") -> RequestValidationError:
    """The 422 of a cursor that no page gave: the error names the parameter."""
    return RequestValidationError(
        [
            {
                "type": "cursor_invalid",
                "loc": ("query", name),
                "msg": f"is not a cursor this list gave ({why}): pass a page's next_cursor "
                "as it came, or leave it out for the first page",
                "input": cursor,
            }
        ]
    )


def decode_cursor(cursor: str, size: int, name: str = "cursor") -> list[Any]:
    """The ``size`` values :func:`encode_cursor` packed into ``cursor``.

    Raises:
        RequestValidationError: not such a cursor (a 422 naming ``name``).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        key = json.loads(raw.decode())
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError, JSONDecodeError too
        raise invalid_cursor(cursor, "not base64 of JSON", name) from exc
    if not isinstance(key, list) or len(key) != size:
        raise invalid_cursor(cursor, f"not a list of {size} values", name)
    if not all(v is None or (isinstance(v, str | int) and not isinstance(v, bool)) for v in key):
        raise invalid_cursor(cursor, "values other than text and numbers", name)
    return key


def page(
    session: Session,
    model: type[T],
    where: Sequence[Any],
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[T], int]:
    """One page of ``model`` rows matching ``where``, and how many match in all."""
    total = session.exec(select(func.count()).select_from(model).where(*where)).one()
    rows = session.exec(
        select(model).where(*where).order_by(*order_by).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def page_answer(
    answer: type[Answer],
    item: type[BaseModel],
    session: Session,
    model: type[Any],
    where: Sequence[Any],
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> Answer:
    """One page as every list endpoint answers it: ``items`` (each row as ``item``),
    ``total``, ``limit`` and ``offset``."""
    rows, total = page(session, model, where, order_by, limit, offset)
    return answer(
        items=[item.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


# ------------------------------------------------------------------ the case list's cursor


def case_cursor(key: CaseKey) -> str:
    """The cursor of the page that starts after the case ``key``."""
    deadline = key.deadline.astimezone(dt.UTC).isoformat() if key.deadline else None
    return encode_cursor(deadline, key.id)


def case_key(cursor: str, offset: int = 0, name: str = "cursor") -> CaseKey:
    """The case a ``cursor`` names (the page starts after it).

    Raises:
        RequestValidationError: not a cursor of this list, or with an offset too (a 422
        naming ``name``).
    """
    if offset:
        raise invalid_cursor(
            cursor, "given with an offset; a page starts at one or the other", name
        )
    deadline, case_id = decode_cursor(cursor, 2, name)
    if not isinstance(case_id, str) or not 0 < len(case_id) <= 80:
        raise invalid_cursor(cursor, "no case id", name)
    if deadline is None:
        return CaseKey(None, case_id)
    try:
        instant = dt.datetime.fromisoformat(str(deadline))
    except ValueError as exc:
        raise invalid_cursor(cursor, "no instant", name) from exc
    if instant.tzinfo is None:
        raise invalid_cursor(cursor, "an instant without its offset", name)
    return CaseKey(instant.astimezone(dt.UTC), case_id)
