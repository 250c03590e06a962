"""The case workflow's public names and its code's determinism, checked without a server."""

from __future__ import annotations

import ast
from pathlib import Path

from temporalio.workflow import _Definition

from workflows.case import CaseWorkflow
from workflows.contract import ContractWorkflow
from workflows.messages import (
    AGREEMENT_ENDED,
    AGREEMENT_EVENT,
    AGREEMENT_QUERY,
    CASE_QUERY,
    CASE_WORKFLOW,
    CONTRACT_FACT,
    CONTRACT_WORKFLOW,
    DELIVERY_FAILED,
    CaseUpdate,
)

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def test_the_names_the_api_uses_are_the_workflows_own() -> None:
    # The API reaches a case by these names alone (it never loads the workflow).
    defn = _Definition.must_from_class(CaseWorkflow)
    assert defn.name == CASE_WORKFLOW
    assert set(defn.updates) == {u.value for u in CaseUpdate}
    assert set(defn.queries) == {CASE_QUERY}
    assert set(defn.signals) == {DELIVERY_FAILED, AGREEMENT_ENDED, CONTRACT_FACT}


def test_the_names_cases_and_the_api_use_are_the_contract_workflows_own() -> None:
    defn = _Definition.must_from_class(ContractWorkflow)
    assert defn.name == CONTRACT_WORKFLOW
    assert set(defn.signals) == {AGREEMENT_EVENT}
    assert set(defn.queries) == {AGREEMENT_QUERY}
    assert set(defn.updates) == set()


#: Calls that read the machine's clock or chance, or do I/O: never in workflow code.
_FORBIDDEN = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
    ("time", "time"),
    ("time", "sleep"),
    ("time", "monotonic"),
    ("asyncio", "sleep"),
    ("uuid", "uuid4"),
    ("random", "random"),
    ("random", "choice"),
    ("os", "environ"),
    ("os", "getenv"),
}


def _offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
            base = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
            if (base, node.attr) in _FORBIDDEN:
                found.append(f"{path.name}:{node.lineno}: {base}.{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("open", "print", "input")
        ):
            found.append(f"{path.name}:{node.lineno}: {node.func.id}()")
    return sorted(found)


def test_workflow_code_reads_no_clock_chance_or_files() -> None:
    # The workflow's modules are passed through the sandbox (it would import them again
    # for every case otherwise), so the sandbox cannot catch these there: this test does.
    offences = [o for path in sorted(WORKFLOWS.glob("*.py")) for o in _offences(path)]
    assert offences == []


def test_the_check_finds_a_clock_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import datetime as dt\nwhen = dt.datetime.now()\nopen('x')\n")
    assert _offences(bad) == ["bad.py:2: datetime.now", "bad.py:3: open()"]
