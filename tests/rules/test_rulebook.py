"""Loading, checking and registering rulebooks."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import yaml

from contracts.terms import TermSheet
from rules import rulebook as rb_module
from rules.rulebook import (
    ACTIONS,
    DEADLINE_UNITS,
    FACT_TYPES,
    RECIPIENT_ROLES,
    SCHEMA_PATH,
    ParameterError,
    RulebookError,
    RulebookRegistry,
    UnknownRulebook,
    load_rulebook,
)

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "rules" / "clauses" / "termination_for_convenience" / "rulebook.v1.yaml"
REFERENCE_TERMS = REPO / "contracts" / "term_sheets" / "reference_msa.yaml"

# A small valid rulebook; each test breaks one thing in it.
VALID = """\
clause: demo
version: 1
title: Demo clause
section: "§1"
summary: A clause used by the tests.
parameters:
  period_days: clauses.termination_for_convenience.notice_period_days
  reminders: clauses.termination_for_convenience.reminder_days_before
facts:
  started_at: {type: datetime, required: true, not_in_future: true, label: Start}
  who: {type: party, required: true, label: Who}
  note: {type: string, label: Note}
recordable_facts:
  settled:
    label: Settled
    allowed_in: [running]
    fields:
      settled_on: {type: date, required: true, label: Settled on}
states:
  running: {label: Running}
  done: {label: Done, terminal: true}
deadlines:
  due:
    label: Due
    from: {fact: started_at}
    period: {count: {param: period_days}, unit: calendar_days}
  nudge:
    label: Nudge
    repeat_for: {param: reminders}
    from: {deadline: due}
    period: {count: {each: true}, unit: business_days}
    direction: before
    roll: backward
    ends: "09:00"
notices:
  hello:
    subject: "Hello {{ contract.title }}"
    to: [notifying_party]
    copy: [owner]
  bye:
    subject: Bye
    to: [customer, provider]
rules:
  - name: start
    when: {event: case_started}
    then:
      - transition: running
      - set_deadlines: [due, nudge]
      - send_notice: hello
  - name: nudge_owner
    when: {event: deadline_reached, deadline_group: nudge, state: running}
    then:
      - escalate: Please look at the case
  - name: finish
    when: {event: deadline_reached, deadline: due, state: {in: [running]}}
    then:
      - transition: done
      - cancel_deadlines: all
      - send_notice: bye
      - close: true
  - name: settle
    when: {event: fact_recorded, fact: settled, state: running}
    then:
      - record: {settled_flag: true}
      - cancel_deadlines: [nudge_30]
"""


def write_rulebook(
    root: Path,
    text: str,
    *,
    clause: str = "demo",
    name: str = "rulebook.v1.yaml",
    templates: bool = True,
) -> Path:
    """Writes a rulebook (and, unless told not to, all its notice templates)."""
    folder = root / "clauses" / clause
    (folder / "notices").mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    if templates:
        for notice in ("hello", "bye"):
            for ext in ("txt", "html"):
                (folder / "notices" / f"{notice}.{ext}.j2").write_text("x", encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) >= occurrence, needle
    return hits[occurrence - 1]


def broken(old: str, new: str, count: int = 1) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, count)


def reference_terms() -> TermSheet:
    return TermSheet.model_validate(yaml.safe_load(REFERENCE_TERMS.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- good files


def test_real_rulebook_loads_and_expands_reminders_from_reference_terms() -> None:
    rulebook = load_rulebook(REAL, check_templates=False)

    assert rulebook.key == ("termination_for_convenience", 1)
    assert rulebook.path == REAL
    assert rulebook.folder == REAL.parent
    params = rulebook.parameter_values(reference_terms())
    assert params["notice_period_days"] == 90
    assert params["reminder_days_before"] == [60, 30, 7]
    assert params["surviving_sections"] == ["4", "6", "7", "9", "11"]

    expanded = rulebook.expanded_deadlines(params)
    assert list(expanded) == ["effective_date", "reminder_60", "reminder_30", "reminder_7"]
    assert expanded["effective_date"].count == 90
    assert expanded["effective_date"].group == "effective_date"
    assert expanded["effective_date"].spec.ends == "start_of_day"
    for days in (60, 30, 7):
        reminder = expanded[f"reminder_{days}"]
        assert (reminder.group, reminder.count) == ("reminder", days)
        assert reminder.spec.from_.deadline == "effective_date"
        assert reminder.spec.direction == "before"
        assert reminder.spec.effective_roll == "backward"
        assert reminder.spec.ends == "09:00"


def test_real_rulebook_models_mirror_the_yaml() -> None:
    rulebook = load_rulebook(REAL, check_templates=False)

    assert rulebook.facts["notice_received_at"].type == "datetime"
    assert rulebook.facts["notice_received_at"].not_in_future
    assert rulebook.recordable_facts["withdrawal_agreed"].allowed_in == ["notice_period_running"]
    assert rulebook.states["terminated"].terminal
    assert rulebook.states["notice_period_running"].expected_dwell_days == 95
    assert rulebook.notices["acknowledgement"].copy_ == ["owner"]
    assert rulebook.notices["owner_reminder"].copy_ == []
    assert rulebook.rules[0].name == "acknowledge_termination_notice"
    assert rulebook.rules[2].actions[-1] == ("close", True)
    dumped = rulebook.deadlines["effective_date"].model_dump(by_alias=True)
    assert dumped["from"]["fact"] == "notice_received_at"


def test_valid_rulebook_with_templates_loads(tmp_path: Path) -> None:
    path = write_rulebook(tmp_path, VALID)

    rulebook = load_rulebook(path)

    txt, html = rulebook.template_paths("hello")
    assert txt == path.parent / "notices" / "hello.txt.j2"
    assert html.name == "hello.html.j2"
    expanded = rulebook.expanded_deadlines({"period_days": 10, "reminders": [5, 2]})
    assert list(expanded) == ["due", "nudge_5", "nudge_2"]
    assert expanded["nudge_2"].label == "Nudge"


def test_expanded_deadlines_reject_bad_parameters(tmp_path: Path) -> None:
    rulebook = load_rulebook(write_rulebook(tmp_path, VALID))

    with pytest.raises(ParameterError, match="needs parameter 'reminders'"):
        rulebook.expanded_deadlines({"period_days": 10})
    with pytest.raises(ParameterError, match="positive whole number"):
        rulebook.expanded_deadlines({"period_days": "10", "reminders": [5]})
    with pytest.raises(ParameterError, match="must be a list"):
        rulebook.expanded_deadlines({"period_days": 10, "reminders": 5})


def test_time_of_the_essence_means_no_roll(tmp_path: Path) -> None:
    text = broken('    ends: "09:00"\n', '    ends: "09:00"\n    time_of_the_essence: true\n')
    text = text.replace("    roll: backward\n", "")
    rulebook = load_rulebook(write_rulebook(tmp_path, text))
    assert rulebook.deadlines["nudge"].effective_roll == "none"


# --------------------------------------------------------------------------- bad files


def assert_rejected(tmp_path: Path, text: str, line: int, *reason_parts: str, **kw: object):
    path = write_rulebook(tmp_path, text, **kw)  # type: ignore[arg-type]
    with pytest.raises(RulebookError) as info:
        load_rulebook(path)
    error = info.value
    assert error.file == path.resolve()
    assert (error.line, error.reason) == (line, error.reason)
    for part in reason_parts:
        assert part in error.reason
    assert str(error) == f"{path.resolve()}:{line}: {error.reason}"
    return error


def test_bad_yaml_syntax(tmp_path: Path) -> None:
    text = broken("    to: [customer, provider]\n", "    to: [customer, provider\n")
    # YAML notices the problem on the next line and says where the sequence began.
    error = assert_rejected(tmp_path, text, line_of(text, "rules:"), "invalid YAML")
    assert f"flow sequence that starts on line {line_of(text, '[customer, provider')}" in (
        error.reason
    )


def rejected(
    id: str, old: str, new: str, at: str, *reason_parts: str, occurrence: int = 1
) -> object:
    """One broken rulebook: ``old`` becomes ``new``; the error names the line holding ``at``."""
    return pytest.param(old, new, at, occurrence, reason_parts, id=id)


BROKEN = [
    rejected(
        "duplicate_yaml_key",
        "  done: {label: Done, terminal: true}\n",
        "  done: {label: Done}\n  done: {label: X}\n",
        "done: {label: X}",
        "duplicate key 'done'",
    ),
    rejected(
        "unknown_action",
        "      - escalate: Please look at the case",
        "      - notify: owner",
        "- notify: owner",
        "rules[1].then[0]",
        "unknown action 'notify'",
    ),
    rejected(
        "two_actions_in_one_step",
        "      - send_notice: bye\n",
        "      - send_notice: bye\n        close: true\n",
        "- send_notice: bye",
        "exactly one action",
    ),
    rejected(
        "unknown_top_level_key",
        "title: Demo clause\n",
        "title: Demo clause\ntitel: Oops\n",
        "titel:",
        "unknown key 'titel'",
        "'title'",
    ),
    rejected(
        "missing_required_field",
        "  running: {label: Running}",
        "  running: {terminal: false}",
        "running: {terminal",
        "states.running",
        "label",
    ),
    # YAML 1.1 reads an unquoted 9:00 as the number 540.
    rejected(
        "unquoted_time_is_explained",
        '    ends: "09:00"',
        "    ends: 9:00",
        "ends: 9:00",
        "deadlines.nudge.ends",
        "quoted",
    ),
    rejected(
        "bad_fact_type",
        "note: {type: string",
        "note: {type: text",
        "note: {type: text",
        "facts.note.type",
        "'text'",
    ),
    rejected(
        "bad_count",
        "{count: {param: period_days}",
        "{count: -3",
        "count: -3",
        "period.count",
        "positive",
    ),
    rejected(
        "bad_recipient_role",
        "    copy: [owner]",
        "    copy: [lawyer]",
        "copy: [lawyer]",
        "notices.hello.copy[0]",
    ),
    rejected(
        "bad_condition_operator",
        "state: {in: [running]}",
        "state: {among: [running]}",
        "among",
        "unknown operator 'among'",
    ),
    rejected(
        "bad_name",
        "  - name: finish",
        "  - name: Finish Now",
        "Finish Now",
        "rules[2].name",
        "not a valid name",
    ),
    rejected(
        "transition_to_undeclared_state",
        "      - transition: done",
        "      - transition: finished",
        "transition: finished",
        "'finish'",
        "undeclared state 'finished'",
    ),
    rejected(
        "unknown_notice",
        "      - send_notice: bye",
        "      - send_notice: goodbye",
        "send_notice: goodbye",
        "undeclared notice 'goodbye'",
    ),
    rejected(
        "typo_in_when_key",
        "deadline_group: nudge, state: running}",
        "deadline_group: nudge, stat: running}",
        "stat: running",
        "unknown fact 'stat'",
        "did you mean 'state'",
    ),
    rejected(
        "unknown_event",
        "when: {event: case_started}",
        "when: {event: case_opened}",
        "case_opened",
        "unknown event 'case_opened'",
    ),
    rejected(
        "unknown_state_in_when",
        "fact: settled, state: running}",
        "fact: settled, state: runing}",
        "runing",
        "unknown state 'runing'",
    ),
    rejected(
        "undeclared_deadline_in_actions",
        "set_deadlines: [due, nudge]",
        "set_deadlines: [due, nag]",
        "[due, nag]",
        "undeclared deadline 'nag'",
    ),
    rejected(
        "expanded_deadline_names_are_accepted_but_not_for_plain_deadlines",
        "cancel_deadlines: [nudge_30]",
        "cancel_deadlines: [due_30]",
        "[due_30]",
        "undeclared deadline 'due_30'",
    ),
    rejected(
        "duplicate_rule_name",
        "  - name: settle",
        "  - name: start",
        "- name: start",
        "duplicate rule name 'start'",
        occurrence=2,
    ),
    rejected(
        "version_must_match_file_name",
        "version: 1\n",
        "version: 2\n",
        "version: 2",
        "version 2 does not match the file name rulebook.v1.yaml",
    ),
    rejected(
        "bad_subject_template",
        "subject: Bye",
        'subject: "Bye {{ contract.title "',
        'subject: "Bye',
        "'bye'",
        "not a valid template",
    ),
    rejected(
        "deadline_from_undeclared_fact",
        "from: {fact: started_at}",
        "from: {fact: began_at}",
        "began_at",
        "undeclared fact 'began_at'",
    ),
    rejected(
        "deadline_from_wrong_fact",
        "from: {fact: started_at}",
        "from: {fact: who}",
        "{fact: who}",
        "must be a datetime or date",
    ),
    rejected(
        "deadline_from_needs_exactly_one_source",
        "from: {fact: started_at}",
        "from: {fact: started_at, deadline: nudge}",
        "deadline: nudge}",
        "exactly one of fact or deadline",
    ),
    rejected(
        "undeclared_parameter",
        "{count: {param: period_days}",
        "{count: {param: period}",
        "param: period}",
        "undeclared parameter 'period'",
    ),
    rejected(
        "parameter_path_must_exist_in_term_sheet",
        "clauses.termination_for_convenience.notice_period_days",
        "clauses.termination_for_convenience.notice_days",
        "notice_days",
        "the term sheet has no",
    ),
    rejected(
        "repeat_needs_each",
        "{count: {each: true}, unit: business_days}",
        "{count: 3, unit: business_days}",
        "count: 3",
        "count must be {each: true}",
    ),
    rejected(
        "each_needs_repeat",
        "{count: {param: period_days}",
        "{count: {each: true}",
        "{count: {each: true}, unit: calendar",
        "needs repeat_for",
    ),
    rejected(
        "allowed_in_must_name_states",
        "allowed_in: [running]",
        "allowed_in: [open]",
        "allowed_in: [open]",
        "undeclared state 'open'",
    ),
    rejected(
        "reserved_fact_name",
        "  note: {type: string",
        "  state: {type: string",
        "  state: {type",
        "'state' is reserved",
    ),
    rejected(
        "not_in_future_only_for_dates",
        "note: {type: string,",
        "note: {type: string, not_in_future: true,",
        "note: {type",
        "not_in_future applies only",
    ),
    rejected(
        "time_of_the_essence_cannot_roll",
        "    roll: backward\n",
        "    roll: backward\n    time_of_the_essence: true\n",
        "roll: backward",
        "time of the essence",
    ),
]


@pytest.mark.parametrize(("old", "new", "at", "occurrence", "reason_parts"), BROKEN)
def test_broken_rulebook_is_rejected_at_its_line(
    tmp_path: Path, old: str, new: str, at: str, occurrence: int, reason_parts: tuple[str, ...]
) -> None:
    text = broken(old, new)
    assert_rejected(tmp_path, text, line_of(text, at, occurrence), *reason_parts)


def test_when_may_use_declared_and_recorded_names(tmp_path: Path) -> None:
    text = broken(
        "when: {event: fact_recorded, fact: settled, state: running}",
        "when: {event: fact_recorded, fact: settled, state: running, who: customer,"
        " settled_on: {ne: x}, settled_flag: true, period_days: {gt: 3}}",
    )
    load_rulebook(write_rulebook(tmp_path, text))


def test_clause_must_match_folder(tmp_path: Path) -> None:
    assert_rejected(
        tmp_path, VALID, 1, "clause 'demo' does not match its folder 'other'", clause="other"
    )


def test_missing_template(tmp_path: Path) -> None:
    path = write_rulebook(tmp_path, VALID)
    (path.parent / "notices" / "bye.html.j2").unlink()
    with pytest.raises(RulebookError) as info:
        load_rulebook(path)
    assert info.value.line == line_of(VALID, "  bye:")
    assert "notice 'bye' has no template notices/bye.html.j2" in info.value.reason
    # The same file is fine when templates are not checked.
    assert load_rulebook(path, check_templates=False).clause == "demo"


def test_circular_deadlines(tmp_path: Path) -> None:
    text = broken("from: {fact: started_at}", "from: {deadline: later}")
    text = text.replace(
        "notices:\n",
        "  later:\n    label: Later\n    from: {deadline: due}\n"
        "    period: {count: 1, unit: hours}\nnotices:\n",
        1,
    )
    assert_rejected(
        tmp_path,
        text,
        line_of(text, "from: {deadline: later}"),
        "circular deadlines: due -> later -> due",
    )


def test_empty_and_missing_files(tmp_path: Path) -> None:
    assert_rejected(tmp_path, "# nothing\n", 1, "empty")
    with pytest.raises(RulebookError, match="cannot read"):
        load_rulebook(tmp_path / "clauses" / "demo" / "rulebook.v9.yaml")


def test_error_pickles() -> None:
    error = RulebookError("/x/rulebook.v1.yaml", 3, "bad")
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.line, again.reason) == (str(error), 3, "bad")
    assert isinstance(again, ValueError)


# --------------------------------------------------------------------------- registry


def test_registry(tmp_path: Path) -> None:
    write_rulebook(tmp_path, VALID)
    write_rulebook(tmp_path, VALID.replace("version: 1", "version: 2"), name="rulebook.v2.yaml")
    registry = RulebookRegistry()

    loaded = registry.load(tmp_path / "clauses")

    assert [r.key for r in loaded] == [("demo", 1), ("demo", 2)]
    assert registry.clauses() == ["demo"]
    assert registry.get("demo", 1).version == 1
    assert registry.latest("demo").version == 2
    assert [r.key for r in registry.all()] == [("demo", 1), ("demo", 2)]
    with pytest.raises(
        UnknownRulebook, match="no rulebook version 3 for clause 'demo'; known versions: 1, 2"
    ):
        registry.get("demo", 3)
    with pytest.raises(KeyError, match="no rulebook for clause 'nope'; known clauses: demo"):
        registry.get("nope", 1)
    with pytest.raises(UnknownRulebook):
        registry.latest("nope")


def test_registry_loads_the_real_clauses_without_templates() -> None:
    registry = RulebookRegistry(check_templates=False)
    registry.load(REPO / "rules" / "clauses")
    assert "termination_for_convenience" in registry.clauses()
    assert registry.latest("termination_for_convenience").version >= 1


def test_registry_rejects_misnamed_files(tmp_path: Path) -> None:
    path = write_rulebook(tmp_path, VALID, name="rulebook.v1.yml")
    with pytest.raises(RulebookError) as info:
        RulebookRegistry().load(tmp_path / "clauses")
    assert info.value.file == path
    assert "rulebook.v<N>.yaml" in info.value.reason


def test_registry_rejects_the_same_version_twice(tmp_path: Path) -> None:
    first = load_rulebook(write_rulebook(tmp_path / "a", VALID))
    second = load_rulebook(write_rulebook(tmp_path / "b", VALID))
    registry = RulebookRegistry()
    registry.add(first)
    registry.add(first)  # the same file again is harmless
    with pytest.raises(RulebookError, match="demo version 1 is already loaded from"):
        registry.add(second)


def test_registry_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        RulebookRegistry().load(tmp_path / "missing")


def test_default_registry_points_at_the_clauses_folder() -> None:
    assert rb_module.CLAUSES_DIR == REPO / "rules" / "clauses"


# --------------------------------------------------------------------------- schema


def test_schema_enums_match_the_python_constants() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    assert tuple(defs["fact"]["properties"]["type"]["enum"]) == FACT_TYPES
    assert tuple(defs["role"]["enum"]) == RECIPIENT_ROLES
    assert tuple(defs["action"]["propertyNames"]["enum"]) == ACTIONS
    assert tuple(defs["deadline"]["properties"]["period"]["properties"]["unit"]["enum"]) == (
        DEADLINE_UNITS
    )
