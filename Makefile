# Clauseflow: `make dev` runs it, `make test` tests it. Both set up .venv from the lock file.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: dev test test-later lint format venv clean bench chaos chromium

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

dev: $(STAMP)
	$(VENV)/bin/clauseflow dev

# Two test processes (pytest-xdist): most of a test's time is waiting on a server.
# Then the suite again with the application's clock a year ahead: a test that hides a
# date (true today, false later) fails today rather than on a later day in CI.
TEST_WORKERS ?= 2
CLOCK_AHEAD_DAYS ?= 365
test: $(STAMP) chromium
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-later

# Tests on a real Temporal dev server ran above: its clock is the machine's and cannot move.
test-later: $(STAMP)
	CLAUSEFLOW_TEST_CLOCK_AHEAD_DAYS=$(CLOCK_AHEAD_DAYS) $(PY) -m pytest -n $(TEST_WORKERS) -m "not devserver" $(PYTEST_ARGS)

# The browser tests drive Debian's chromium: install it when we can, else stop and say how.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests (apt-get install chromium)..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; \
	  fi; \
	  if [ ! -x "$(CHROMIUM)" ]; then \
	    echo "make test: the browser tests need Debian's chromium at $(CHROMIUM)." >&2; \
	    echo "Install it with 'sudo apt-get install chromium' (or set CHROMIUM=/path/to/chromium) and run make test again." >&2; \
	    exit 1; \
	  fi; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy workflows activities rules contracts store runtime api workers
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .clauseflow .pytest_cache test-artifacts

# Figures, not tests. The scale run at the issue's sizes takes about 20 minutes here;
# make bench SCALE_ARGS="--open-cases 2000 --list-cases 20000" is a quicker one.
SCALE_ARGS ?=
bench: $(STAMP)
	$(PY) -m bench.case_throughput
	$(PY) -m bench.rule_evaluation
	$(PY) -m bench.scale $(SCALE_ARGS)

# Fault injection: 220 cases under worker kills, Temporal restarts, database outages and
# a failing, slow SendGrid; prints what survived and fails on any lost or duplicate notice.
chaos: $(STAMP)
	$(PY) -m bench.chaos
