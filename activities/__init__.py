"""Every side effect of a case: rules, deadlines, records and notices. Each is idempotent."""

from collections.abc import Callable
from typing import Any

from activities.notices import rewrite_held_notice, send_notice
from activities.records import record_step
from activities.rulebooks import compute_deadlines, decide, describe_rulebook

#: Regular activities, retried by Temporal and run on the worker's thread pool.
ACTIVITIES: list[Callable[..., Any]] = [record_step, send_notice, rewrite_held_notice]
#: Local activities: short and pure, executed in the worker without server round trips.
LOCAL_ACTIVITIES: list[Callable[..., Any]] = [describe_rulebook, decide, compute_deadlines]

__all__ = [
    "ACTIVITIES",
    "LOCAL_ACTIVITIES",
    "compute_deadlines",
    "decide",
    "describe_rulebook",
    "record_step",
    "rewrite_held_notice",
    "send_notice",
]
