"""The `clauseflow` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any


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
    wi.add_argument(
        "--example",
        action="store_true",
        help="start from the clause's example facts (its scenarios.yaml); NAME=VALUE overrides",
    )
    pr = sub.add_parser(
        "propose",
        help="propose a term sheet from an agreement's text, each figure with its sentence",
    )
    pr.add_argument("file", help="the agreement: plain text (.txt), Word (.docx) or PDF (.pdf)")
    pr.add_argument("--json", action="store_true", help="print JSON instead of text")
    _add_access_commands(sub)
    args = parser.parse_args(argv)
    if args.command == "propose":
        from workers.propose import run as run_proposal

        return run_proposal(args.file, as_json=args.json)
    if args.command in ("dev", "what-if", "user", "token"):
        # Interactive commands print for a person; the services log JSON.
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    else:
        from runtime.logging import configure_logging
        from runtime.settings import get_settings

        settings = get_settings()
        configure_logging(settings)
        from runtime.config_check import enforce_production_settings

        enforce_production_settings(settings)  # exits, listing every problem
        if args.command == "worker":
            from runtime.codec import check_payload_keys
            from runtime.logging import add_party_names
            from store.contracts import party_names

            check_payload_keys(settings)
            add_party_names(party_names(settings.database_url))
    logging.getLogger("alembic").setLevel(logging.WARNING)

    if args.command == "dev":
        from workers.dev import run_dev

        return run_dev()
    if args.command == "worker":
        from workers.procs import end_without_teardown
        from workers.worker import run_worker

        # The SDK's threads can abort (SIGABRT) a Python that tears itself down.
        end_without_teardown(lambda: asyncio.run(run_worker()))
    if args.command == "what-if":
        from workers.what_if import run

        return run(
            args.clause,
            args.facts,
            contract_id=args.contract,
            as_json=args.json,
            example=args.example,
        )
    if args.command in ("user", "token"):
        return _run_access_command(args)
    if args.command == "migrate":
        from runtime.settings import get_settings
        from store.migrate import upgrade

        upgrade(get_settings().database_url)
        print("database is up to date")
        return 0
    return 2


def _add_access_commands(sub: Any) -> None:
    from store.auth import ROLES

    user = sub.add_parser("user", help="manage console users")
    user_sub = user.add_subparsers(dest="action", required=True)
    create = user_sub.add_parser(
        "create",
        help="create a console user (the first admin: --role admin)",
        description="Creates a user who signs in to the console at /console. Without "
        "--password-stdin a random password is generated and printed once.",
    )
    create.add_argument("--email", required=True, help="the sign-in name")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", help="display name (default: the email's local part)")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="action", required=True)
    tcreate = token_sub.add_parser(
        "create",
        help="create an API token (printed once; only its hash is stored)",
        description="Creates a bearer token for the API: "
        "curl -H 'Authorization: Bearer <token>' ...",
    )
    tcreate.add_argument("--name", required=True, help="what uses it, e.g. billing-sync")
    tcreate.add_argument("--role", required=True, choices=ROLES)


#: Who the audit trail names for what the command line creates.
CLI_ACTOR = "clauseflow cli"

#: Passwords shorter than this are refused (the API asks the same).
MIN_PASSWORD_LENGTH = 12


def _run_access_command(args: argparse.Namespace) -> int:
    """`clauseflow user create` and `clauseflow token create`, on DATABASE_URL."""
    from sqlmodel import Session

    from runtime.settings import get_settings
    from store.auth import AuthError, create_token, create_user, generate_password
    from store.db import get_engine
    from store.migrate import upgrade

    generated = False
    password = ""
    if args.command == "user":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if len(password) < MIN_PASSWORD_LENGTH:
                print(
                    f"error: the password must have at least {MIN_PASSWORD_LENGTH} characters",
                    file=sys.stderr,
                )
                return 2
        else:
            password, generated = generate_password(), True

    upgrade(get_settings().database_url)  # a fresh database gets its tables first
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            if args.command == "user":
                user = create_user(
                    session,
                    args.email,
                    args.role,
                    password,
                    display_name=args.name,
                    created_by=CLI_ACTOR,
                )
            else:
                token, plaintext = create_token(session, args.name, args.role, created_by=CLI_ACTOR)
        except AuthError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        session.commit()

    if args.command == "user":
        print(f"created user {user.email} ({user.role}), id {user.id}")
        if generated:
            print(f"password: {password}")
            print("(shown once; sign in at /console and keep it safe)")
        return 0
    print(f"created token {token.name!r} ({token.role}), id {token.id}")
    print(f"token: {plaintext}")
    print("(shown once; only its hash is stored)")
    print(f"export CLAUSEFLOW_TOKEN={plaintext}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
