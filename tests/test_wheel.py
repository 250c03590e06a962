"""The wheel is what the image runs: the Dockerfile builds the project from its build
context, installs it and removes the source. These tests do the same without Docker:

- copy the repository as `docker build` would send it (.dockerignore applied);
- build the wheel there (`pip wheel --no-deps --no-build-isolation`, the locked setuptools);
- check it carries every file of every source package, and no tests;
- install it into a fresh venv that sees the project's dependencies but not its source
  tree (a .pth naming .venv's site-packages: the editable install's finder, a .pth file
  there, is not run), then, from a directory outside the repository, import every
  module, load every rulebook, render a notice, migrate a SQLite database with the CLI,
  and start the API with uvicorn and ask it for its pages, templates and assets.

A package left out of pyproject.toml's [tool.setuptools.packages.find], or a data file
its package-data does not carry, fails here with the file named.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import httpx
import pytest

from tests.conftest import REPO

#: Top-level packages of the repository that stay out of the wheel.
NOT_SHIPPED = {"tests", "bench"}
#: Scripts alembic runs itself (`clauseflow migrate` runs them here), not importable
#: modules: env.py needs alembic's context.
ALEMBIC_SCRIPTS = re.compile(r"store\.migrations\.(env|versions\..*)")
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def _run(
    cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``cmd``; fails the test with its output when it fails."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


# --- the build context, as `docker build .` sends it ---------------------------------------


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker matches it, from the context's root.

    ``**`` spans directories, ``*`` and ``?`` do not; a trailing ``/`` is dropped.
    """
    pattern = pattern.strip("/")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def _dockerignore() -> list[re.Pattern[str]]:
    patterns = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!") or "[" in line:
            pytest.fail(
                f".dockerignore: {line!r} uses a rule tests/test_wheel.py cannot read "
                "(! or [...]); teach _dockerignore_regex it"
            )
        patterns.append(_dockerignore_regex(line))
    return patterns


def copy_build_context(dest: Path) -> Path:
    """Copies what `docker build .` would send (everything .dockerignore lets through)."""
    patterns = _dockerignore()

    def ignored(folder: str, names: list[str]) -> set[str]:
        rel = Path(folder).relative_to(REPO).as_posix()
        paths = {name: name if rel == "." else f"{rel}/{name}" for name in names}
        return {name for name, path in paths.items() if any(p.fullmatch(path) for p in patterns)}

    shutil.copytree(REPO, dest, ignore=ignored, symlinks=True)
    return dest


# --- the wheel ------------------------------------------------------------------------


def source_packages() -> list[str]:
    """The repository's top-level packages (folders with an __init__.py) that ship."""
    found = {p.parent.name for p in REPO.glob("*/__init__.py") if not p.parent.name.startswith(".")}
    return sorted(found - NOT_SHIPPED)


def source_files(package: str) -> set[str]:
    """Every file under a top-level package, as the wheel would name it; no bytecode."""
    files = set()
    for path in (REPO / package).rglob("*"):
        rel = path.relative_to(REPO)
        if not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".pyc":
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue  # editor and OS droppings (.DS_Store, .swp)
        files.add(rel.as_posix())
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the build context."""
    root = tmp_path_factory.mktemp("wheel")
    context = copy_build_context(root / "context")
    dist = root / "dist"
    _run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), "."],
        cwd=context,
    )
    (built,) = dist.glob("clauseflow-*.whl")
    return built


def wheel_names(wheel: Path) -> set[str]:
    """The files a wheel installs, but its metadata."""
    with zipfile.ZipFile(wheel) as z:
        return {n for n in z.namelist() if not n.split("/", 1)[0].endswith(".dist-info")}


def test_the_wheel_carries_every_file_of_every_source_package_and_no_tests(wheel: Path) -> None:
    names = wheel_names(wheel)
    shipped = source_packages()
    assert {"api", "rules", "store", "workers"} <= set(shipped)
    top_level = {PurePosixPath(n).parts[0] for n in names}
    assert top_level == set(shipped), (
        f"the wheel lacks {sorted(set(shipped) - top_level)} and has "
        f"{sorted(top_level - set(shipped))} it should not: a new top-level package goes in "
        "pyproject.toml's [tool.setuptools.packages.find] include (or NOT_SHIPPED here)"
    )
    for package in shipped:
        missing = sorted(source_files(package) - names)
        assert not missing, (
            f"the wheel lacks {len(missing)} file(s) of {package}/, e.g. {missing[:5]}: "
            "pyproject.toml's [tool.setuptools.package-data] does not carry their kind"
        )
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


# --- the wheel installed without the source tree ----------------------------------------


@dataclass
class Installed:
    python: Path  # the fresh venv's interpreter
    bin: Path  # its scripts (the `clauseflow` entry point)
    site_packages: Path  # where the wheel went
    workdir: Path  # outside the repository: the current directory of everything run
    env: dict[str, str]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    # Into the empty venv first, so pip sees no other clauseflow (.venv's editable one).
    _run([*PIP, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)])
    site_packages = Path(
        _run(
            [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    # The locked dependencies, from .venv: a .pth only adds the folder to sys.path, so
    # the editable install's own .pth (its finder of the source tree) never runs.
    (site_packages / "clauseflow-test-dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    workdir = root / "work"
    workdir.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "ENVIRONMENT": "development",
        "DATABASE_URL": f"sqlite:///{workdir / 'clauseflow.db'}",
    }
    return Installed(python, venv / "bin", site_packages, workdir, env)


def wheel_modules(wheel: Path) -> list[str]:
    """Every module the wheel holds, by dotted name."""
    modules = []
    for name in sorted(wheel_names(wheel)):
        if name.endswith(".py"):
            dotted = name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            if not ALEMBIC_SCRIPTS.fullmatch(dotted):
                modules.append(dotted)
    return modules


#: Run by the installed venv's python: imports and uses what the wheel carries.
CHECK_INSTALLED = r"""
import datetime as dt, importlib, json, sys
from pathlib import Path

site_packages, modules = Path(sys.argv[1]), json.loads(sys.argv[2])
outside = {}
for name in modules:
    module = importlib.import_module(name)
    if not Path(module.__file__).resolve().is_relative_to(site_packages.resolve()):
        outside[name] = module.__file__

from activities.rulebooks import compute_deadlines
from activities.types import ComputeDeadlinesInput
from rules.release import released
from rules.render import NoticeRequest, render_notice
from rules.rulebook import default_registry
from workers.seed import reference_term_sheet

registry = default_registry()  # every rulebook, its notice templates checked
terms = reference_term_sheet()  # contracts/term_sheets/reference_msa.yaml
facts = {"notice_received_at": "2026-12-01T15:00:00Z", "given_by": "customer"}
deadlines = compute_deadlines(ComputeDeadlinesInput(
    "termination_for_convenience", 1, terms.model_dump(mode="json"), facts, ["effective_date"]
)).deadlines
notice = render_notice(registry.get("termination_for_convenience", 1), terms, NoticeRequest(
    case_id="case_wheel", notice="acknowledgement", state="notice_period_running",
    at=dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC), facts=facts,
    deadlines={d.name: d for d in deadlines},
))
print(json.dumps({
    "imported": len(modules),
    "outside": outside,
    "clauses": registry.clauses(),
    "released": len(released()),
    "notice_text": notice.body_text,
    "notice_html": notice.body_html,
}))
"""


def test_the_installed_wheel_imports_every_module_and_reads_its_data_without_the_source(
    wheel: Path, installed: Installed
) -> None:
    modules = wheel_modules(wheel)
    assert {"api.main", "workers.cli", "store.migrate"} <= set(modules)
    done = _run(
        [
            str(installed.python),
            "-I",
            "-c",
            CHECK_INSTALLED,
            str(installed.site_packages),
            json.dumps(modules),
        ],
        cwd=installed.workdir,
        env=installed.env,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["imported"] == len(modules)
    assert result["outside"] == {}, "modules imported from outside the installed wheel"
    assert set(result["clauses"]) == {
        p.parent.name for p in REPO.glob("rules/clauses/*/rulebook.v*.yaml")
    }
    assert result["released"] > 0
    # The reference MSA's 90 days' notice from 1 Dec 2026, in the notice and its layout.
    assert "Mon 1 Mar 2027" in result["notice_text"]
    assert "Mon 1 Mar 2027" in result["notice_html"] and "<html" in result["notice_html"].lower()


def test_the_installed_cli_migrates_a_database_and_answers_what_if(installed: Installed) -> None:
    clauseflow = str(installed.bin / "clauseflow")
    migrated = _run([clauseflow, "migrate"], cwd=installed.workdir, env=installed.env)
    assert "database is up to date" in migrated.stdout
    what_if = _run(
        [
            clauseflow,
            "what-if",
            "termination_for_convenience",
            "notice_received_at=2026-12-01T15:00:00Z",
            "given_by=customer",
            "--json",
        ],
        cwd=installed.workdir,
        env=installed.env,
    )
    assert "effective_date" in what_if.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(installed: Installed) -> Iterator[tuple[str, str]]:
    """The installed API under uvicorn (the image's command); yields its URL and a token."""
    clauseflow = str(installed.bin / "clauseflow")
    _run([clauseflow, "migrate"], cwd=installed.workdir, env=installed.env)
    created = _run(
        [clauseflow, "token", "create", "--name", "wheel-test", "--role", "viewer"],
        cwd=installed.workdir,
        env=installed.env,
    ).stdout
    token = re.search(r"^token: (\S+)$", created, re.M)
    assert token, created
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = installed.workdir / "uvicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(installed.python), "-I", "-m", "uvicorn", "api.main:app", "--port", str(port)],
            cwd=installed.workdir,
            env=installed.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        started = time.monotonic()
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() - started > 30:
                server.kill()
                server.wait()
                pytest.fail(f"the installed API did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield base_url, token.group(1)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_installed_api_serves_its_pages_templates_and_assets(installed: Installed) -> None:
    with serving(installed) as (base_url, token), httpx.Client(base_url=base_url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        login = client.get("/console/login")  # a Jinja template of api/templates
        assert login.status_code == 200 and "<form" in login.text
        for asset in (
            "/static/console.css",
            "/static/htmx.min.js",
            "/static/docs/swagger-ui-bundle.js",
            "/static/docs/redoc.standalone.js",
        ):
            assert client.get(asset).status_code == 200, asset
        headers = {"Authorization": f"Bearer {token}"}
        assert "/api/cases" in client.get("/openapi.json", headers=headers).json()["paths"]
        assert "/static/docs/swagger-ui-bundle.js" in client.get("/docs", headers=headers).text
