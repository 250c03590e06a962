"""The API process never loads the worker: it reaches cases by name (workflows.messages),
and renders and computes with the pure functions under rules/. `make lint` checks the
imports statically (import-linter, pyproject.toml); this checks what a real start loads."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

#: Modules of the worker's side that the API must never load.
WORKER_SIDE = (
    "workers",
    "workflows.case",
    "workflows.steps",
    "workflows.operator",
    "activities.notices",
    "activities.records",
    "activities.rulebooks",
    "activities.failures",
)

PROBE = """
import json, sys
from api.main import create_app
create_app()
print(json.dumps(sorted(sys.modules)))
"""


def test_starting_the_api_loads_no_workflow_activity_or_worker_module() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert [m for m in loaded if m.startswith(WORKER_SIDE)] == []
    # What it does load of those packages: the workflow's messages and their types.
    assert "workflows.messages" in loaded and "activities.types" in loaded
