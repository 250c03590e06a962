"""Fixtures of the rulebook tests.

A module that sets ``CLAUSE`` gets ``rulebook``, that clause's real rulebook (version 1,
templates checked), and ``scenarios``, its rules/clauses/<clause>/scenarios.yaml.
"""

from __future__ import annotations

import pytest

from rules.rulebook import Rulebook, default_registry
from rules.scenarios import Scenarios, load_scenarios, scenarios_path


@pytest.fixture(scope="module")
def rulebook(request: pytest.FixtureRequest) -> Rulebook:
    return default_registry().get(request.module.CLAUSE, 1)


@pytest.fixture(scope="module")
def scenarios(request: pytest.FixtureRequest) -> Scenarios:
    return load_scenarios(scenarios_path(request.module.CLAUSE))
