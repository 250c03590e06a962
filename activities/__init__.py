"""Every side effect of a case: rules, deadlines, records and notices. Each is idempotent.

The worker registers them (workers/temporal.py); importing one module of this package
loads no other, so the API can use ``activities.types`` without the activities.
"""
