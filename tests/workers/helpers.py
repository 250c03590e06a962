"""What the process tests share: a child that just waits, and polling for a condition."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

#: A child process that does nothing for ten minutes (until it is stopped).
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> bool:
    """Polls ``condition`` until it is truthy; False if ``timeout`` seconds pass first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False
