"""Termination for convenience written by hand as a plain Temporal workflow: the honest
baseline that bench.case_throughput measures Clauseflow against (issue 14).

Laid out as temporalio/samples-python lays out a workflow, one kind of thing a module,
so that the sandbox re-imports only the small workflow module for each run:

- ``shared``: the dataclasses that cross the client/workflow/activity boundaries;
- ``deadlines``: the effective date and the reminders, counted with Clauseflow's own
  calendar (contracts/calendar), pure, so the workflow computes them itself;
- ``workflow``: the workflow, which waits on timers and runs one activity per notice;
- ``activities``: the one activity, which renders a notice with Clauseflow's renderer and
  writes it with its step record in one transaction;
- ``worker`` (``python -m bench.handwritten worker --task-queue Q``): its own worker
  process.

Kept empty of imports: the sandbox imports this package for every workflow run.
"""
