"""The `clauseflow` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of `clauseflow`."""
    parser = argparse.ArgumentParser(prog="clauseflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="run the Temporal dev server, a worker and the API")
    sub.add_parser("worker", help="run a Temporal worker")
    sub.add_parser("migrate", help="bring the database schema up to date")
    wi = sub.add_parser(
        "what-if",
        help="show the deadlines some facts would set, without starting a case",
        description="Example: clauseflow what-if termination_for_convenience "
        "notice_received_at=2026-12-01T10:00 given_by=customer",
    )
    wi.add_argument("clause", help="e.g. termination_for_convenience")
    wi.add_argument("facts", nargs="*", metavar="NAME=VALUE", help="start facts of the clause")
    wi.add_argument(
        "--contract",
        help="a registered contract id (reads DATABASE_URL); default: the reference MSA",
    )
    wi.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    if args.command in ("dev", "what-if"):
        # Interactive commands print for a person; the services log JSON.
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    else:
        from store.settings import get_settings
        from workers.logging_setup import configure_logging

        settings = get_settings()
        configure_logging(settings)
        from store.config_check import enforce_production_settings

        enforce_production_settings(settings)  # exits, listing every problem
        if args.command == "worker":
            from workers.codec import check_payload_keys
            from workers.logging_setup import load_party_names

            check_payload_keys(settings)
            load_party_names(settings)
    logging.getLogger("alembic").setLevel(logging.WARNING)

    if args.command == "dev":
        from workers.dev import run_dev

        return run_dev()
    if args.command == "worker":
        from workers.worker import run_worker

        asyncio.run(run_worker())
        return 0
    if args.command == "what-if":
        from workers.what_if import run

        return run(args.clause, args.facts, contract_id=args.contract, as_json=args.json)
    if args.command == "migrate":
        from store.migrate import upgrade
        from store.settings import get_settings

        upgrade(get_settings().database_url)
        print("database is up to date")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
