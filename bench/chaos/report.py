"""The report: the table of faults injected and of what survived, with the problems."""

from __future__ import annotations

import argparse

from bench.chaos.judging import Summary


def table(s: Summary, args: argparse.Namespace) -> str:
    lines = [
        f"Chaos run: {s.cases} cases, {args.workers} workers, seed {args.seed}, {s.seconds:.0f} s",
        "",
        f"{'fault injected':<28}{'count':>8}",
        "-" * 36,
    ]
    for kind in (
        "worker SIGKILL",
        "Temporal restart",
        "database outage",
        "SendGrid 429/500",
        "SendGrid slow",
    ):
        lines.append(f"{kind:<28}{s.faults.get(kind, 0):>8}")
    lines += [
        "",
        f"{'what survived':<28}{'count':>8}",
        "-" * 36,
        f"{'cases':<28}{s.cases:>8}",
        f"{'  at expected end state':<28}{s.at_end_state:>8}",
        f"{'  not at end state':<28}{len(s.not_at_end_state):>8}",
        f"{'notices expected':<28}{s.notices_expected:>8}",
        f"{'  sent exactly once':<28}{s.notices_sent:>8}",
        f"{'  duplicated':<28}{len(s.duplicated):>8}",
        f"{'  lost':<28}{len(s.lost):>8}",
        f"{'  unexpected (stray)':<28}{len(s.stray):>8}",
        f"{'state mismatches (DB/Temporal)':<28}{len(s.mismatches):>6}",
        f"{'escalated cases':<28}{len(s.escalated):>8}",
        f"{'histories not replaying':<28}{len(s.not_replayable):>8}",
        f"{'requests breaking the spec':<28}{s.invalid_requests:>8}",
        "",
        "RESULT: " + ("OK" if s.ok else "FAILED"),
    ]
    for title, items in (
        ("not at end state", s.not_at_end_state),
        ("duplicated", s.duplicated),
        ("lost", s.lost),
        ("stray", s.stray),
        ("mismatches", s.mismatches),
        ("escalated", s.escalated),
        ("not replaying", s.not_replayable),
    ):
        for item in items[:20]:
            lines.append(f"  {title}: {item}")
    for item in s.slowest:
        lines.append(f"  slowest: {item}")
    if s.worker_exits:
        lines.append(f"worker exits other than SIGKILL (restarted): {s.worker_exits}")
    for note in s.unexpected_exits:
        lines.append(f"  unexpected exit: {note}")
    if s.logs_kept:
        lines.append(f"logs kept in {s.logs_kept}")
    return "\n".join(lines)
