"""Loading scenarios files: relative dates, and errors that name the file, line and key.

The instants here are injected ``now`` values, never compared with the clock: the
resolution of a relative date is a pure function of them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rules.rulebook import default_registry
from rules.scenarios import (
    Act,
    Reach,
    ScenariosError,
    Step,
    Travel,
    check_against,
    load_scenarios,
    resolve,
    resolve_facts,
)

NY = "America/New_York"
VALID = """\
clause: term_expiry
start:
  effective_date: '2026-01-01'
  noted_at: {at: now-1h}
decisions:
  rulebook_version: 1
  case: {effective_date: '2037-03-01'}
  rows:
    - name: case started
      event: case_started
      expect:
        - [track_term, transition, term_running]
    - name: reminder
      deadline: expiry_reminder_30
      group: expiry_reminder
      state: term_running
      facts: {effective_date: '2037-03-02', extra: null}
      expect: []
    - name: renewed
      recorded: renewed
      state: term_running
      expect: []
paths:
  - name: renewed
    start: {effective_date: {date: today-30d}}
    steps:
      - in: term_running
        record: renewed
        values: {agreed_on: {date: today}}
    end: {state: renewed}
"""


def write(tmp_path: Path, text: str, clause: str = "term_expiry") -> Path:
    path = tmp_path / clause / "scenarios.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str, clause: str = "term_expiry") -> ScenariosError:
    path = write(tmp_path, text, clause)
    with pytest.raises(ScenariosError) as info:
        load_scenarios(path)
    assert info.value.file == path
    return info.value


def test_a_row_stands_for_the_facts_the_engine_sees(tmp_path: Path) -> None:
    scenarios = load_scenarios(write(tmp_path, VALID))
    started, reminder, renewed = scenarios.rows
    assert scenarios.facts(started) == {
        "clause": "term_expiry",
        "rulebook_version": 1,
        "effective_date": "2037-03-01",
        "event": "case_started",
    }
    # The row's own facts win over the case's; null is a fact left out.
    assert scenarios.facts(reminder) == {
        "clause": "term_expiry",
        "rulebook_version": 1,
        "effective_date": "2037-03-02",
        "event": "deadline_reached",
        "deadline": "expiry_reminder_30",
        "deadline_group": "expiry_reminder",
        "state": "term_running",
        "extra": None,
    }
    assert renewed.facts == {"event": "fact_recorded", "fact": "renewed", "state": "term_running"}
    assert started.expect == (("track_term", "transition", "term_running"),)
    assert scenarios.where(reminder) == f"{scenarios.path}:13"


def test_a_path_starts_from_the_clauses_start_facts(tmp_path: Path) -> None:
    [case] = load_scenarios(write(tmp_path, VALID)).paths
    assert case.start == {"effective_date": {"date": "today-30d"}, "noted_at": {"at": "now-1h"}}
    [step] = case.steps
    assert (step.in_state, step.fact, step.values, step.line) == (
        "term_running",
        "renewed",
        {"agreed_on": {"date": "today"}},
        27,
    )
    assert (case.end_state, case.closed, case.approve_held) == ("renewed", True, False)
    now = dt.datetime(2030, 5, 6, 3, 0, tzinfo=dt.UTC)
    assert resolve_facts(step.values, now=now, time_zone=NY) == {"agreed_on": "2030-05-05"}


def test_start_facts_resolve_against_the_injected_now(tmp_path: Path) -> None:
    scenarios = load_scenarios(write(tmp_path, VALID))
    now = dt.datetime(2030, 5, 6, 12, 30, 15, 999, tzinfo=dt.UTC)
    assert scenarios.start == {"effective_date": "2026-01-01", "noted_at": {"at": "now-1h"}}
    assert scenarios.start_facts(now=now, time_zone=NY) == {
        "effective_date": "2026-01-01",
        "noted_at": "2030-05-06T11:30:15+00:00",
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("now", "2030-03-11T12:00:00+00:00"),
        ("now-1h", "2030-03-11T11:00:00+00:00"),
        ("now+120h", "2030-03-16T12:00:00+00:00"),
        ("now-15m", "2030-03-11T11:45:00+00:00"),
        ("now-0.25h", "2030-03-11T11:45:00+00:00"),
        ("now-1d-2h", "2030-03-10T10:00:00+00:00"),
        # Wall-clock time in New York on the day reached: EDT from 10 March 2030, EST before.
        ("now@10:00", "2030-03-11T14:00:00+00:00"),
        ("now-1d@10:00", "2030-03-10T14:00:00+00:00"),
        ("now-2d@10:00", "2030-03-09T15:00:00+00:00"),
    ],
)
def test_relative_instants(spec: str, expected: str) -> None:
    now = dt.datetime(2030, 3, 11, 12, 0, 0, 500, tzinfo=dt.UTC)
    assert resolve({"at": spec}, now=now, time_zone=NY) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # 03:00 UTC on 1 January is still 31 December in New York.
        ("today", "2029-12-31"),
        ("today-2d", "2029-12-29"),
        ("today+1d", "2030-01-01"),
        ("month_start", "2029-12-01"),
        ("month_start-1mo", "2029-11-01"),
        ("month_start-1d", "2029-11-30"),
        ("today+2mo", "2030-02-28"),
        ("month_start+1mo-1d", "2029-12-31"),
    ],
)
def test_relative_days_are_the_contract_zones(spec: str, expected: str) -> None:
    now = dt.datetime(2030, 1, 1, 3, 0, tzinfo=dt.UTC)
    assert resolve({"date": spec}, now=now, time_zone=NY) == expected


def test_other_values_are_kept_and_now_must_be_aware() -> None:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert resolve("now-1h", now=now, time_zone=NY) == "now-1h"
    assert resolve(12, now=now, time_zone=NY) == 12
    with pytest.raises(ValueError, match="timezone-aware"):
        resolve({"at": "now"}, now=dt.datetime(2030, 1, 1), time_zone=NY)


RECORDED = """\
  - name: recorded
    history: [renewed_before, renewed]
    case_id: case_replay_renewed
    at: '2037-11-27T12:00:00Z'
    ready: false
    history_limit: 15
    by: owner@example.com
    reason: replay history
    steps:
      - travel: {at: now+13d@10:00}
      - reach: expiry_reminder_180
      - in: term_running
        record: renewed
        values: {agreed_on: {date: today+13d}}
        reason: signed
      - in: renewed
        act: close_case
        values: {outcome: cancelled}
        by: alice@example.com
    end: {state: cancelled}
"""


def test_a_path_at_a_fixed_moment_says_how_it_is_recorded(tmp_path: Path) -> None:
    scenarios = load_scenarios(write(tmp_path, VALID + RECORDED))
    case = scenarios.paths[1]
    assert (case.at, case.histories, case.case_id) == (
        dt.datetime(2037, 11, 27, 12, tzinfo=dt.UTC),
        ("renewed_before", "renewed"),
        "case_replay_renewed",
    )
    assert (case.ready, case.history_limit, case.closed_by_operator) == (False, 15, "cancelled")
    travel, reach, record, act = case.steps
    assert travel == Travel({"at": "now+13d@10:00"}, 40)
    assert reach == Reach("expiry_reminder_180", 41)
    # A step's by and reason are its own, else its path's.
    assert record == Step(
        "term_running", "renewed", {"agreed_on": {"date": "today+13d"}}, 42,
        by="owner@example.com", reason="signed",
    )  # fmt: skip
    assert act == Act(
        "renewed", "close_case", {"outcome": "cancelled"}, 46, by="alice@example.com",
        reason="replay history",
    )  # fmt: skip
    assert case.records == (record,)
    moved = dt.datetime(2037, 12, 10, 15, tzinfo=dt.UTC)
    assert case.timeline(now=moved, time_zone=NY) == [(moved, record)]
    assert scenarios.paths[0].at is None and scenarios.paths[0].ready
    check_against(scenarios, default_registry().get("term_expiry", 1))
    at = resolve(travel.to, now=case.at, time_zone=NY, zulu=True)
    assert at == "2037-12-10T15:00:00Z"


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        (
            "    case_id: case_replay_renewed\n",
            "",
            31,
            "paths[1]: a recorded history (history) has a fixed moment (at) and case id",
        ),
        (
            "    at: '2037-11-27T12:00:00Z'\n",
            "    history: renewed\n",
            34,
            "duplicate key 'history'",
        ),
        ("at: '2037-11-27T12:00:00Z'", "at: 2037-11-27", 34, "not an instant in UTC"),
        ("act: close_case", "act: close", 47, "'close' is not an operator action"),
        (
            "      - reach: expiry_reminder_180\n",
            "      - reach: expiry_reminder_180\n        in: term_running\n",
            41,
            "a travel or reach step has no other keys",
        ),
        (
            "        act: close_case\n",
            "        act: close_case\n        record: renewed\n",
            46,
            "a step names exactly one of record (a fact), act",
        ),
        ("      - in: renewed\n", "      - reason: x\n", 46, "says the state the case must be in"),
        ("[renewed_before, renewed]", "[renewed, renewed]", 32, "history: 'renewed' twice"),
    ],
)
def test_errors_in_recorded_paths(
    tmp_path: Path, old: str, new: str, line: int, reason: str
) -> None:
    assert old in RECORDED
    e = error(tmp_path, VALID + RECORDED.replace(old, new, 1))
    assert (e.line, reason in e.reason) == (line, True), e.reason


def test_only_a_path_at_a_fixed_moment_travels(tmp_path: Path) -> None:
    text = VALID + RECORDED.replace("    at: '2037-11-27T12:00:00Z'\n", "").replace(
        "    history: [renewed_before, renewed]\n    case_id: case_replay_renewed\n", ""
    )
    e = error(tmp_path, text)
    assert (e.line, e.reason) == (
        37,
        "paths[1].steps[0].travel: only a path with a fixed moment (at) can travel",
    )


def test_a_path_reaches_only_the_rulebooks_deadlines(tmp_path: Path) -> None:
    text = VALID + RECORDED.replace("reach: expiry_reminder_180", "reach: expiry")
    scenarios = load_scenarios(write(tmp_path, text))
    with pytest.raises(ScenariosError, match=r"steps\[1\].reach: 'expiry' is not a deadline"):
        check_against(scenarios, default_registry().get("term_expiry", 1))


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        (
            "{at: now-1h}",
            "{at: yesterday}",
            4,
            "start.noted_at.at: 'yesterday' is not a relative instant",
        ),
        (
            "{at: now-1h}",
            "{at: now-1h, date: today}",
            4,
            "start.noted_at: a relative date is {at: now...} (an instant) or {date: today...}",
        ),
        ("{at: now-1h}", "[now]", 4, "start.noted_at: a start fact is a string, a number"),
        ("{at: now-1h}", "{date: today-1h}", 4, "'today-1h' is not a relative date"),
        (
            "      expect: []\n",
            "      expct: []\n",
            18,
            "unknown key 'expct' (did you mean 'expect'?)",
        ),
        (
            "      recorded: renewed\n",
            "      recorded: renewed\n      deadline: term_expiry\n",
            19,
            "decisions.rows[2]: a row names exactly one of event, deadline",
        ),
        (
            "      event: case_started\n",
            "      event: case_started\n      group: term_expiry\n",
            9,
            "decisions.rows[0]: group is the deadline_group of a deadline row",
        ),
        ("name: renewed", "name: reminder", 19, "decisions.rows[2].name: 'reminder' twice"),
        ("event: case_started", "event: case_startd", 10, "did you mean 'case_started'?"),
        ("transition, term_running", "transit, term_running", 12, "unknown action 'transit'"),
        ("[track_term, transition,", "[track_term,", 12, "a decision is [rule, action, value]"),
        ("clause: term_expiry", "clause: term_expiry\nclause: x", 2, "duplicate key 'clause'"),
        ("  rulebook_version: 1\n", "", 5, "'rulebook_version' is a required property"),
        ("{effective_date: '2037-03-01'}", "{Bad-name: 1}", 7, "cannot be a fact's name"),
        ("        record: renewed", "        recrd: renewed", 28, "unknown key 'recrd'"),
        ("paths:\n", "paths:\n  - name: x\n    end: {}\n", 25, "paths[0].end: 'state' is a"),
        (
            "end: {state: renewed}",
            "end: {state: renewed}\n  - name: renewed\n    end: {state: renewed}",
            31,
            "paths[1].name: 'renewed' twice",
        ),
    ],
)
def test_errors_name_the_file_line_and_key(
    tmp_path: Path, old: str, new: str, line: int, reason: str
) -> None:
    assert old in VALID
    e = error(tmp_path, VALID.replace(old, new, 1))
    assert (e.line, reason in e.reason) == (line, True), e.reason


def test_the_clause_is_its_folders(tmp_path: Path) -> None:
    e = error(tmp_path, VALID, clause="term")
    assert (e.line, e.reason) == (1, "clause: 'term_expiry' is not the folder's clause 'term'")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenariosError, match="cannot read the scenarios"):
        load_scenarios(tmp_path / "term_expiry" / "scenarios.yaml")


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            "[track_term, transition,",
            "[track_terms, transition,",
            "decisions.rows[0].expect: 'track_terms' is not a rule of the term_expiry rulebook "
            "(did you mean 'track_term'?)",
        ),
        (
            "recorded: renewed",
            "recorded: renewal",
            "decisions.rows[2].recorded: 'renewal' is not a recordable fact",
        ),
        (
            "group: expiry_reminder",
            "group: expiry_reminders",
            "decisions.rows[1].group: 'expiry_reminders' is not a deadline",
        ),
        ("rulebook_version: 1", "rulebook_version: 2", "the table is for term_expiry v2"),
        (
            "end: {state: renewed}",
            "end: {state: renewd}",
            "paths[0].end.state: 'renewd' is not a state of the term_expiry rulebook "
            "(did you mean 'renewed'?)",
        ),
        ("- in: term_running", "- in: running", "paths[0].steps[0].in: 'running' is not a state"),
        ("record: renewed", "record: renewal", "steps[0].record: 'renewal' is not a recordable"),
    ],
)
def test_the_table_names_only_what_the_rulebook_declares(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    scenarios = load_scenarios(write(tmp_path, VALID.replace(old, new, 1)))
    with pytest.raises(ScenariosError) as info:
        check_against(scenarios, default_registry().get("term_expiry", 1))
    assert reason in info.value.reason
