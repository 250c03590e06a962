"""What the API and the worker share, below both: settings and the production check, the
Temporal connection and data converter, payload encryption, logging and metrics.

Nothing here imports an activity, a workflow, the API or the worker.
"""
