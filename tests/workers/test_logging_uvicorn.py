"""uvicorn's access and error logs come out as the same JSON lines as everything else."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from uvicorn.config import LOGGING_CONFIG

from runtime.logging import UVICORN_LOG_CONFIG
from tests.workers.helpers import json_logs, wait_until
from workers.dev import api_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    # What uvicorn.Config sets up before the app starts (tests/browser run it so); it
    # leaves the root logger's level alone.
    logging.config.dictConfig(LOGGING_CONFIG)
    with json_logs("WARNING") as stream:
        yield stream


def test_an_access_line_is_json_with_method_path_and_status(
    json_lines: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    # As uvicorn's protocols log a request (uvicorn/protocols/http/h11_impl.py).
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:50312",
        "GET",
        "/api/cases?owner=dana@customer.example.com",
        "1.1",
        200,
    )
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    access, error = (json.loads(line) for line in json_lines.getvalue().splitlines())
    assert (access["logger"], access["level"]) == ("uvicorn.access", "INFO")
    assert (access["method"], access["path"], access["status"]) == (
        "GET",
        "/api/cases?owner=[email]",
        200,
    )
    assert access["message"] == '127.0.0.1:50312 - "GET /api/cases?owner=[email] HTTP/1.1" 200'
    assert set(access) == {"timestamp", "level", "logger", "message", "method", "path", "status"}
    # uvicorn's INFO lines still show at LOG_LEVEL=WARNING, as they did in plain text.
    assert (error["logger"], error["message"]) == ("uvicorn.error", "Application startup complete.")
    assert "method" not in error
    # uvicorn's own text handlers wrote nothing.
    assert capsys.readouterr() == ("", "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_api_as_make_dev_starts_it_logs_json_from_its_first_line(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "api.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            api_command("127.0.0.1", port), cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
        )

    def answered_or_exited() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return server.poll() is not None

    try:
        if not wait_until(answered_or_exited, timeout=30) or server.poll() is not None:
            pytest.fail(f"the API did not start:\n{log.read_text()}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    lines: list[dict[str, Any]] = [json.loads(x) for x in log.read_text().splitlines() if x]
    assert lines[0]["logger"] == "uvicorn.error"
    assert lines[0]["message"].startswith("Started server process")
    access = [x for x in lines if x["logger"] == "uvicorn.access"]
    assert {"method": "GET", "path": "/healthz", "status": 200}.items() <= access[-1].items()


def test_the_image_and_compose_give_uvicorn_the_log_config_the_wheel_ships() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    python = re.findall(r"^FROM python:(\d+\.\d+)-slim", dockerfile, re.M)
    assert python and set(python) == {python[0]}
    # Where pip installs the wheel's runtime package in the image's venv.
    shipped = (
        f"/opt/venv/lib/python{python[0]}/site-packages/"
        f"{UVICORN_LOG_CONFIG.relative_to(ROOT).as_posix()}"
    )
    image = json.loads(re.findall(r"^CMD (\[.*\])$", dockerfile, re.M)[-1])
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for command in (image, compose["services"]["api"]["command"]):
        assert command[:2] == ["uvicorn", "api.main:app"]
        assert command[command.index("--log-config") + 1] == shipped
    assert api_command("127.0.0.1", 8000)[-2:] == ["--log-config", str(UVICORN_LOG_CONFIG)]
