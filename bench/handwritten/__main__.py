"""``python -m bench.handwritten worker --task-queue Q``: see bench.handwritten.worker."""

from bench.handwritten.worker import main

main()
