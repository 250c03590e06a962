"""``python -m bench.chaos``: the chaos run (see the package's docstring for what it does)."""

from __future__ import annotations

import sys

from bench.chaos.runner import main

if __name__ == "__main__":
    sys.exit(main())
