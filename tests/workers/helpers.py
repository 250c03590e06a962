"""What the process tests share: a child that just waits, polling for a condition, and
JSON log lines caught in a string."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import time
from collections.abc import Callable, Iterator

from runtime.logging import configure_logging
from runtime.settings import Settings

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


@contextlib.contextmanager
def json_logs(level: str) -> Iterator[io.StringIO]:
    """The process's logs from ``level`` up as JSON lines in a string; restored after."""
    stream = io.StringIO()
    root_level = logging.getLogger().level
    handler = configure_logging(
        Settings(_env_file=None, log_format="json", log_level=level),  # type: ignore[call-arg]
        stream=stream,
    )
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
