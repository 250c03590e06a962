"""`clauseflow user create` and `clauseflow token create`: bootstrapping access."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from runtime.settings import get_settings
from store.auth import find_token, verify_password
from store.db import get_engine
from store.models import AuditEntry, User
from workers.cli import main


def _user(email: str) -> User:
    with Session(get_engine()) as session:
        return session.exec(select(User).where(User.email == email)).one()


def printed(capsys: pytest.CaptureFixture[str], command: str, line: str) -> str:
    """Runs ``command`` (its words), which must succeed; the group of ``line`` it printed."""
    code = main(command.split())
    out = capsys.readouterr().out
    assert code == 0, out
    found = re.search(line, out, re.M)
    assert found, out
    return found.group(1)


def test_user_create_generates_a_password_and_prints_it_once(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = "user create --email Root@Provider.example --role admin"
    password = printed(capsys, command, r"^password: (\S+)$")
    user = _user("root@provider.example")
    assert user.role == "admin" and user.active and user.display_name == "root"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, password)
    with Session(get_engine()) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "user_created")).one()
    assert entry.actor == "clauseflow cli" and entry.after["email"] == "root@provider.example"


def test_user_create_reads_the_password_from_stdin(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a passphrase of my own\n"))
    code = main(
        [
            "user",
            "create",
            "--email",
            "olga@provider.example",
            "--role",
            "operator",
            "--name",
            "Olga Petrova",
            "--password-stdin",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "password" not in out  # nothing generated, nothing to show
    user = _user("olga@provider.example")
    assert user.display_name == "Olga Petrova" and user.role == "operator"
    assert verify_password(user.password_hash, "a passphrase of my own")


def test_user_create_refuses_a_short_password_and_a_second_user_with_the_email(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    args = ["user", "create", "--email", "a@provider.example", "--role", "viewer"]
    assert main([*args, "--password-stdin"]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert main(args) == 0
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err


def test_user_create_refuses_an_unknown_role(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["user", "create", "--email", "a@b.example", "--role", "superuser"])
    assert "invalid choice" in capsys.readouterr().err


def test_token_create_prints_the_token_once_and_stores_its_hash(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = "token create --name billing-sync --role contract_manager"
    plaintext = printed(capsys, command, r"^export CLAUSEFLOW_TOKEN=(cf_\S+)$")
    with Session(get_engine()) as session:
        token = find_token(session, plaintext)
        assert token is not None
        assert token.name == "billing-sync" and token.role == "contract_manager"
        assert token.token_hash != plaintext and plaintext not in repr(token.model_dump())


def test_the_commands_migrate_a_fresh_database_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        assert main(["token", "create", "--name", "first", "--role", "admin"]) == 0
        assert "export CLAUSEFLOW_TOKEN=cf_" in capsys.readouterr().out
    finally:
        get_engine(url).dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
