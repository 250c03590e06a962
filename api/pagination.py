"""Counting and paging a filtered query, the same way for every list endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlmodel import Session, func, select

from api.schemas import MAX_OFFSET

T = TypeVar("T")
Answer = TypeVar("Answer", bound=BaseModel)

#: The paging parameters of every list endpoint: ``limit: Limit = 50, offset: Offset = 0``.
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


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
