"""Compares recorded histories with the committed ones: `python -m tests.histories.compare`.

The committed histories stand for live cases and are never re-recorded; what must hold
is that recording a name again would give an equivalent history. So record into another
folder and compare there::

    .venv/bin/python -m tests.histories.record --out /tmp/h
    .venv/bin/python -m tests.histories.compare /tmp/h

Equivalent means the same shape (the workflow's events in order, activity types, local
activity markers, update and signal names, the number of timers) and the same inputs
(the case's start input, every update's and signal's arguments): what the recorder
sends. Left out is what comes from the clock and the machine, not from the recorder:

- event times, ids, worker identities, activity results and timer durations;
- workflow task events and ``ACTIVITY_TASK_STARTED``: the server writes them where
  a worker's poll or an activity's completion happens to fall, which varies from one
  recording to the next of the same case;
- for the same reason, where an update's or an activity's outcome falls among the
  workflow's own events: each of the three kept in its own order is compared, and
  an interleaving that differs is only noted;
- instants with fractional seconds in an input (the carried-over state of a case
  continued as new): the workflow's clock wrote them, the recorder writes whole seconds;
- fields an input has that the committed one lacks: the workflow's inputs gained them
  since, and they take their defaults when the committed history replays.

Prints one line a name and exits 1 if any differ.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
_UPDATE = "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED"
_SIGNAL = "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"
_STARTED = "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
_NOISE = {
    "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED",
    "EVENT_TYPE_WORKFLOW_TASK_STARTED",
    "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
    "EVENT_TYPE_ACTIVITY_TASK_STARTED",
}
_CLOCK = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d)?$")


def _decoded(payloads: dict[str, Any] | None) -> list[Any]:
    return [json.loads(base64.b64decode(p["data"])) for p in (payloads or {}).get("payloads", [])]


def summary(history: dict[str, Any]) -> dict[str, list[Any]]:
    """What a history is made of, without what the clock and the machine put in it."""
    out: dict[str, list[Any]] = {
        "events": [],
        "activities": [],
        "markers": [],
        "timers": [],
        "updates": [],
        "signals": [],
        "start": [],
    }
    for event in history["events"]:
        kind = event["eventType"]
        if kind not in _NOISE:
            out["events"].append(kind.removeprefix("EVENT_TYPE_"))
        if kind == _STARTED:
            out["start"] = _decoded(event["workflowExecutionStartedEventAttributes"].get("input"))
        elif kind == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED":
            attrs = event["activityTaskScheduledEventAttributes"]
            out["activities"].append(attrs["activityType"]["name"])
        elif kind == "EVENT_TYPE_MARKER_RECORDED":
            attrs = event["markerRecordedEventAttributes"]
            data = _decoded(attrs.get("details", {}).get("data"))
            local = data[0].get("activity_type") if data and isinstance(data[0], dict) else None
            out["markers"].append(f"{attrs['markerName']}:{local}")
        elif kind == "EVENT_TYPE_TIMER_STARTED":
            out["timers"].append("timer")
        elif kind == _UPDATE:
            request = event["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]
            out["updates"].append(
                [request["input"]["name"], _decoded(request["input"].get("args"))]
            )
        elif kind == _SIGNAL:
            attrs = event["workflowExecutionSignaledEventAttributes"]
            out["signals"].append([attrs["signalName"], _decoded(attrs.get("input"))])
    return out


def differences(committed: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    """What differs between two histories, by part (empty: equivalent)."""
    a, b = summary(committed), summary(recorded)
    for part in ("start", "updates", "signals"):
        a[part], b[part] = _masked(a[part]), _masked(_like(b[part], a[part]))
    found = []
    for part in a:
        if a[part] != b[part] and not (part == "events" and _interleaved(a[part], b[part])):
            found.append(f"{part}: {_first_difference(a[part], b[part])}")
    return found


def notes(committed: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    """What differs only in how the server interleaved the events (not a difference)."""
    a, b = summary(committed)["events"], summary(recorded)["events"]
    if a != b and _interleaved(a, b):
        return [f"events interleaved otherwise: {_first_difference(a, b)}"]
    return []


def _stream(event: str) -> str:
    if event.startswith("WORKFLOW_EXECUTION_UPDATE_"):
        return "update"
    if event.startswith("ACTIVITY_TASK_") and event != "ACTIVITY_TASK_SCHEDULED":
        return "activity outcome"
    return "workflow"


def _interleaved(a: list[str], b: list[str]) -> bool:
    """Whether ``a`` and ``b`` differ only in how their streams are interleaved."""
    streams = {_stream(e) for e in a + b}
    return all(
        [e for e in a if _stream(e) == s] == [e for e in b if _stream(e) == s] for s in streams
    )


def _like(recorded: Any, committed: Any) -> Any:
    """``recorded`` without the mapping keys ``committed`` lacks, at any depth."""
    if isinstance(recorded, dict) and isinstance(committed, dict):
        return {k: _like(v, committed[k]) for k, v in recorded.items() if k in committed}
    if isinstance(recorded, list) and isinstance(committed, list):
        return [_like(r, c) for r, c in zip(recorded, committed, strict=False)] + recorded[
            len(committed) :
        ]
    return recorded


def _masked(value: Any) -> Any:
    """``value`` with the workflow clock's instants (fractional seconds) blanked."""
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, str) and _CLOCK.match(value):
        return "<clock>"
    return value


def _first_difference(a: list[Any], b: list[Any]) -> str:
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"#{index}: committed {_short(x)} / recorded {_short(y)}"
    return f"committed has {len(a)}, recorded {len(b)}"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) < 400 else text[:400] + "..."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.histories.compare")
    parser.add_argument("folder", type=Path, help="where the histories were recorded again")
    parser.add_argument("names", nargs="*", help="histories to compare (default: all there)")
    args = parser.parse_args(argv)
    names = args.names or sorted(p.stem for p in args.folder.glob("*.json"))
    bad = 0
    for name in names:
        recorded = args.folder / f"{name}.json"
        if not recorded.exists():
            print(f"MISSING  {name}")
            bad += 1
            continue
        committed = json.loads((HERE / f"{name}.json").read_text())
        again = json.loads(recorded.read_text())
        found = differences(committed, again)
        print(f"{'DIFFERS' if found else 'SAME':8} {name}")
        for line in found or notes(committed, again):
            print(f"    {line}")
        bad += bool(found)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
