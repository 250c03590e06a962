"""Counting and paging a filtered query, the same way for every list endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlmodel import Session, func, select

T = TypeVar("T")


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
