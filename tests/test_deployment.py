"""The production shape (docker-compose.yml, Dockerfile, .env.example), checked without Docker.

These machines have no Docker engine and no compose plugin, so nothing here starts a
container: the files are parsed and checked against the project itself (its CLI, its
app, its settings) and against each other (ports, hosts, dependencies). The imports here
come from the source tree; tests/test_wheel.py runs the same app from the built wheel,
installed without the source, as the image does.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import importlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from dotenv import dotenv_values
from fastapi import FastAPI
from pydantic import TypeAdapter
from starlette.routing import Match

from runtime.settings import Settings
from runtime.temporal import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"

#: The services that run Clauseflow's code and read its settings.
APP_SERVICES = ("api", "worker", "migrate")
SETTING_NAMES = sorted(name.upper() for name in Settings.model_fields)
HEALTH_CONDITIONS = {"service_healthy", "service_completed_successfully"}

_VAR = re.compile(r"\$\$|\$\{(?P<braced>[^}]+)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation (`${X}`, `${X:-d}`, `${X-d}`, `${X:?e}`, `$$`)."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        expr = match.group("braced") or match.group("bare")
        for op in (":-", "-", ":?", "?"):
            if op in expr:
                name, arg = expr.split(op, 1)
                have = env.get(name)
                empty = have is None or (op.startswith(":") and have == "")
                if op.endswith("-"):
                    return arg if empty else str(have)
                if empty:
                    raise AssertionError(f"${{{expr}}}: {name} is required but not set")
                return str(have)
        return env.get(expr, "")

    return _VAR.sub(one, value)


def _resolve(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return _interpolate(node, env)
    if isinstance(node, list):
        return [_resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _resolve(value, env) for key, value in node.items()}
    return node


@pytest.fixture(scope="module")
def dotenv() -> dict[str, str]:
    """The .env a deployment starts from: `cp .env.example .env`."""
    values = dotenv_values(ENV_EXAMPLE, interpolate=False)
    return {key: value or "" for key, value in values.items()}


@pytest.fixture(scope="module")
def raw_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(raw_compose: dict[str, Any], dotenv: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The services as compose sees them, with .env.example's values interpolated."""
    return _resolve(raw_compose["services"], dotenv)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _effective_env(service: dict[str, Any], dotenv: dict[str, str]) -> dict[str, str]:
    """What the container's process sees: env_file (.env = .env.example), then environment."""
    env_files = service.get("env_file") or []
    if isinstance(env_files, str | dict):
        env_files = [env_files]
    env: dict[str, str] = {}
    for entry in env_files:
        path = entry["path"] if isinstance(entry, dict) else entry
        assert path == ".env", f"unexpected env_file {path}"
        env.update(dotenv)
    env.update(_environment(service))
    return env


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else list(command)


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def _ports(service: dict[str, Any]) -> list[tuple[str | None, int, int]]:
    """(host ip, host port, container port) of each published port."""
    published = []
    for spec in service.get("ports") or []:
        parts = str(spec).split(":")
        ip = parts[0] if len(parts) == 3 else None
        published.append((ip, int(parts[-2]), int(parts[-1])))
    return published


def _health_url(service: dict[str, Any]) -> str:
    test = " ".join(service["healthcheck"]["test"])
    match = re.search(r"http://[^'\" ]+", test)
    assert match, f"no URL in health check {test!r}"
    return match.group(0)


def _is_one_shot(service: dict[str, Any]) -> bool:
    return str(service.get("restart", "no")) == "no"


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


# --- the compose file ------------------------------------------------------------------


def test_every_service_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", "temporal", "temporal-ui", "api", "worker", "migrate"} <= set(services)
    for name, service in services.items():
        assert service.get("image") or service.get("build"), name


def test_third_party_images_are_pinned_to_a_version(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if service.get("build"):
            continue
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"
        assert re.match(r"\d+\.\d+", tag), f"{name}: {image} is not pinned to a version"


def test_temporal_runs_on_the_official_images_with_postgresql(
    services: dict[str, dict[str, Any]],
) -> None:
    server = services["temporal"]
    assert server["image"].startswith("temporalio/server:")
    env = _environment(server)
    assert env["DB"] == "postgres12"
    # The schema set-up comes from admin-tools of the same version as the server.
    schema = services["temporal-schema"]
    assert schema["image"] == "temporalio/admin-tools:" + server["image"].split(":")[1]
    assert _environment(schema)["SQL_PLUGIN"] == "postgres12"
    script = _command(schema)
    for db in (env["DBNAME"], env["VISIBILITY_DBNAME"]):
        assert db in " ".join(script)
    assert server["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")


def test_the_setup_registers_clauseflows_search_attributes_as_keywords(
    services: dict[str, dict[str, Any]],
) -> None:
    script = " ".join(_command(services["temporal-setup"]))
    match = re.search(r"for name in ([A-Za-z ]+?); do", script)
    assert match, "the setup service should loop over the search attribute names"
    assert set(match.group(1).split()) == set(SEARCH_ATTRIBUTES)
    assert set(SEARCH_ATTRIBUTES.values()) == {"Keyword"}
    assert "search-attribute create" in script
    assert "--type Keyword" in script


def test_clauseflow_commands_exist_in_the_cli(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each `clauseflow ...` command is parsed by the real CLI parser (and not run)."""
    from workers import cli

    class Parsed(Exception):
        def __init__(self, namespace: argparse.Namespace) -> None:
            self.namespace = namespace

    real_parse_args = argparse.ArgumentParser.parse_args

    def parse_then_stop(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise Parsed(real_parse_args(self, *args, **kwargs))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    commands = {
        name: _command(s) for name, s in services.items() if _command(s)[:1] == ["clauseflow"]
    }
    assert set(commands) == {"worker", "migrate"}
    for name, command in commands.items():
        with pytest.raises(Parsed) as parsed:
            cli.main(command[1:])
        assert parsed.value.namespace.command == command[1], name


def test_a_command_the_cli_does_not_have_would_be_refused() -> None:
    """The check above can fail: argparse refuses an unknown subcommand."""
    from workers import cli

    with pytest.raises(SystemExit):
        cli.main(["no-such-command"])


def test_uvicorn_targets_import_as_fastapi_apps(services: dict[str, dict[str, Any]]) -> None:
    targets = [_command(s)[1] for s in services.values() if _command(s)[:1] == ["uvicorn"]]
    dockerfile_cmd = dict(_dockerfile_instructions())["CMD"]
    targets.append(yaml.safe_load(dockerfile_cmd)[1])
    assert targets == ["api.main:app", "api.main:app"]
    for target in targets:
        module, _, attribute = target.partition(":")
        assert isinstance(getattr(importlib.import_module(module), attribute), FastAPI)


def _serves_get(app: FastAPI, path: str) -> bool:
    """Whether a GET of ``path`` reaches a route (included routers too), without calling it."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


def test_health_checks_hit_routes_the_api_serves(services: dict[str, dict[str, Any]]) -> None:
    from api.main import app

    compose_path = urlsplit(_health_url(services["api"])).path
    dockerfile_url = re.search(r"http://[^'\"]+", dict(_dockerfile_instructions())["HEALTHCHECK"])
    assert dockerfile_url, "the Dockerfile's HEALTHCHECK should hit a URL"
    dockerfile_path = urlsplit(dockerfile_url.group(0)).path
    assert compose_path == "/readyz"
    assert dockerfile_path == "/healthz"
    assert _serves_get(app, compose_path)
    assert _serves_get(app, dockerfile_path)
    assert not _serves_get(app, "/no-such-health-check")


def test_health_checks_need_no_token(services: dict[str, dict[str, Any]]) -> None:
    """Probes send no credentials: their routes must not depend on api.access.require."""
    from fastapi.routing import APIRoute, iter_route_contexts

    from api.main import app

    def guarded(dependant: Any) -> bool:
        return any(
            getattr(d.call, "permissions", None) or guarded(d) for d in dependant.dependencies
        )

    probes = {urlsplit(_health_url(services["api"])).path, "/healthz"}
    routes = {
        c.path: c.route for c in iter_route_contexts(app.routes) if isinstance(c.route, APIRoute)
    }
    assert probes <= set(routes)
    assert not any(guarded(routes[path].dependant) for path in probes)
    assert guarded(routes["/api/cases"].dependant)  # the check can fail


def test_every_setting_is_set_for_the_api_and_the_worker(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    for name in APP_SERVICES:
        env = _effective_env(services[name], dotenv)
        missing = [setting for setting in SETTING_NAMES if setting not in env]
        assert not missing, f"{name} does not set {missing}"


def test_every_setting_value_is_valid_for_its_field(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    """Each value parses as its Settings field would (int ports, literal log format...)."""
    for name in APP_SERVICES:
        env = _effective_env(services[name], dotenv)
        for field_name, field in Settings.model_fields.items():
            value: str | None = env[field_name.upper()]
            if value == "" and type(None) in getattr(field.annotation, "__args__", ()):
                value = None
            assert field.annotation is not None
            TypeAdapter(field.annotation).validate_python(value)
        assert env["ENVIRONMENT"] == "production", name


def test_env_example_lists_every_setting_and_nothing_unused(
    raw_compose: dict[str, Any], dotenv: dict[str, str]
) -> None:
    assert sorted(set(SETTING_NAMES) - set(dotenv)) == []
    interpolated = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE.read_text()))
    unused = set(dotenv) - set(SETTING_NAMES) - interpolated
    assert not unused, f".env.example sets variables nothing reads: {sorted(unused)}"
    missing = interpolated - set(dotenv)
    assert not missing, f"docker-compose.yml interpolates variables .env.example lacks: {missing}"


def _looks_like_a_real_secret(value: str) -> bool:
    if re.fullmatch(r"SG\.[\w-]{16,}\.[\w-]{16,}", value):
        return True
    if "PRIVATE KEY" in value:
        return True
    for token in re.split(r"[:,\s]", value):
        try:
            if len(token) >= 24 and len(base64.b64decode(token, validate=True)) >= 16:
                return True
        except (binascii.Error, ValueError):
            pass
    return False


def test_env_example_holds_no_real_secrets(dotenv: dict[str, str]) -> None:
    for name, value in dotenv.items():
        assert not _looks_like_a_real_secret(value), f"{name} looks like a real secret"
        if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$|_KEYS$", name):
            assert value == "" or re.search(r"change-me|REPLACE", value), (
                f"{name} should be empty or an obvious placeholder"
            )


def test_the_secret_check_catches_real_looking_secrets() -> None:
    fake_sendgrid = "SG." + "a" * 22 + "." + "b" * 43
    fake_aes_key = "k1:" + base64.b64encode(bytes(range(32))).decode()
    assert _looks_like_a_real_secret(fake_sendgrid)
    assert _looks_like_a_real_secret(fake_aes_key)
    assert not _looks_like_a_real_secret("k1:REPLACE-with-base64-of-32-random-bytes")


# --- ports and hosts agree ---------------------------------------------------------------


def test_the_api_port_agrees(services: dict[str, dict[str, Any]], dotenv: dict[str, str]) -> None:
    api = services["api"]
    port = int(_option(_command(api), "--port"))
    assert _option(_command(api), "--host") == "0.0.0.0"
    assert [container for _, _, container in _ports(api)] == [port]
    assert urlsplit(_health_url(api)).port == port
    assert int(_effective_env(api, dotenv)["API_PORT"]) == port
    assert "EXPOSE" in dict(_dockerfile_instructions())
    assert dict(_dockerfile_instructions())["EXPOSE"] == str(port)


def test_everyone_reaches_temporal_at_its_frontend_port(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    server = services["temporal"]
    (_, _, frontend_port), *_ = _ports(server)
    assert str(frontend_port) in server["healthcheck"]["test"]
    expected = f"temporal:{frontend_port}"
    assert _environment(services["temporal-ui"])["TEMPORAL_ADDRESS"] == expected
    assert _environment(services["temporal-setup"])["TEMPORAL_ADDRESS"] == expected
    for name in APP_SERVICES:
        assert _effective_env(services[name], dotenv)["TEMPORAL_ADDRESS"] == expected, name


def test_everyone_reaches_postgres_as_its_user_and_database(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    pg = _environment(services["postgres"])
    assert "PGPORT" not in pg  # so it listens on 5432
    for name in APP_SERVICES:
        url = urlsplit(_effective_env(services[name], dotenv)["DATABASE_URL"])
        assert url.scheme.startswith("postgresql"), name
        assert (url.hostname, url.port) == ("postgres", 5432), name
        assert (url.username, url.password) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"])
        assert url.path == "/" + pg["POSTGRES_DB"], name
    # The line in .env.example (for commands run by hand) says the same.
    assert urlsplit(dotenv["DATABASE_URL"]) == urlsplit(
        _effective_env(services["api"], dotenv)["DATABASE_URL"]
    )
    server = _environment(services["temporal"])
    assert (server["POSTGRES_SEEDS"], server["DB_PORT"]) == ("postgres", "5432")
    assert (server["POSTGRES_USER"], server["POSTGRES_PWD"]) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
    )
    schema = _environment(services["temporal-schema"])
    assert (schema["SQL_HOST"], schema["SQL_PORT"]) == ("postgres", "5432")
    assert (schema["SQL_USER"], schema["SQL_PASSWORD"]) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
    )


def test_the_web_ui_and_the_codec_endpoint_agree(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    ui = services["temporal-ui"]
    ui_env = _environment(ui)
    (_, ui_host_port, _), *_ = _ports(ui)
    (_, api_host_port, _), *_ = _ports(services["api"])
    codec = urlsplit(ui_env["TEMPORAL_CODEC_ENDPOINT"])
    assert codec.port == api_host_port
    assert codec.path == "/codec"
    assert ui_env["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert "env_file" not in ui  # the UI image reads TEMPORAL_UI_PORT as its own port
    api_env = _effective_env(services["api"], dotenv)
    ui_origin = f"http://localhost:{ui_host_port}"
    assert ui_origin in api_env["CODEC_CORS_ORIGINS"].split(",")
    assert api_env["TEMPORAL_UI_URL"] == ui_origin
    assert int(api_env["TEMPORAL_UI_PORT"]) == ui_host_port
    assert urlsplit(_health_url(ui)).port == ui_host_port


def test_the_worker_health_check_reads_its_metrics_port(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    worker = services["worker"]
    test = " ".join(worker["healthcheck"]["test"])
    assert "WORKER_METRICS_PORT" in test
    match = re.search(r"'WORKER_METRICS_PORT', '(\d+)'", test)
    assert match, "the health check should default to a port"
    default = match.group(1)
    assert default == _effective_env(worker, dotenv)["WORKER_METRICS_PORT"]
    assert int(default) == Settings.model_fields["worker_metrics_port"].default


# --- start-up order and scaling ----------------------------------------------------------


def test_dependencies_exist_and_wait_on_health_or_completion(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for target, spec in depends_on.items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = spec["condition"]
            assert condition in HEALTH_CONDITIONS, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert "test" in services[target].get("healthcheck", {}), target
            else:
                assert _is_one_shot(services[target]), target


def test_migrations_and_temporal_setup_run_before_the_api_and_the_workers(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("api", "worker"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["temporal-setup"]["condition"] == "service_completed_successfully"
        assert depends_on["postgres"]["condition"] == "service_healthy"
    assert _command(services["migrate"]) == ["clauseflow", "migrate"]


def test_every_long_running_service_has_a_health_check(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if _is_one_shot(service):
            continue
        healthcheck = service.get("healthcheck") or {}
        assert healthcheck.get("test") and not healthcheck.get("disable"), name


def test_the_worker_can_scale(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker
    assert "hostname" not in worker
    assert not worker.get("ports")
    assert not _is_one_shot(worker)


# --- the image -------------------------------------------------------------------------


def test_the_image_installs_the_lock_with_hashes_and_runs_as_non_root() -> None:
    instructions = _dockerfile_instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert froms and all(args.startswith("python:3.11-slim") for args in froms)
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    lock_install = next(r for r in runs if "requirements.lock" in r)
    assert "--require-hashes" in lock_install and "--no-deps" in lock_install
    assert any(re.search(r"pip install --no-deps\b.*(/src|\s\.)\b", r) for r in runs)
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}


def test_the_image_runs_the_installed_wheel_without_the_source() -> None:
    """What tests/test_wheel.py proves without Docker holds only if the image does this."""
    instructions = _dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    build, runtime = instructions[:last_from], instructions[last_from:]
    copies = [args for keyword, args in build if keyword == "COPY"]
    assert ". /src" in copies, "the build stage builds the whole build context"
    # Built into a wheel and installed (never `-e`, which needs the source), then removed.
    installs = [args for keyword, args in build if keyword == "RUN" and "/src" in args]
    assert installs == ["pip install --no-deps --no-build-isolation /src && rm -rf /src"]
    # The runtime stage gets only the venv: no source tree to import from by accident.
    assert [args for keyword, args in runtime if keyword in {"COPY", "ADD"}] == [
        "--from=build /opt/venv /opt/venv"
    ]
    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()}
    needed = {"pyproject.toml", "README.md", "api", "rules", "store", "workers"}
    assert not needed & ignored, "the wheel is built from these: keep them in the context"


def test_every_locked_requirement_has_a_hash() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[2])
    pinned = [entry for entry in entries if "==" in entry.split("\n")[0]]
    assert pinned
    for entry in pinned:
        assert "--hash=sha256:" in entry, entry.split("\n")[0]


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".env", ".clauseflow/", ".venv/", ".git/"} <= ignored
