"""Fault injection for crash tests: kill the worker process at a named point.

For tests and chaos drills only. ``crash_if(point)`` ends the process at once, as a
``kill -9`` would (no cleanup, no ``finally`` blocks, exit status 137), when the
environment variable ``CLAUSEFLOW_CRASH_AT`` names that point; otherwise it does
nothing. Production never sets the variable.

Points used by ``activities.notices.send_notice``:

* ``before_notice_row``: nothing written yet;
* ``after_notice_row``: the notice is rendered and stored, not yet handed to SendGrid;
* ``after_sendgrid_accepted``: SendGrid answered 202, the answer is not recorded;
* ``after_notice_recorded``: recorded as sent, the activity has not returned.
"""

from __future__ import annotations

import os

#: The environment variable naming the point at which to crash.
CRASH_AT_ENV = "CLAUSEFLOW_CRASH_AT"


def crash_if(point: str) -> None:
    """Ends the process with status 137 if ``CLAUSEFLOW_CRASH_AT`` equals ``point``."""
    if os.environ.get(CRASH_AT_ENV) == point:
        os._exit(137)
