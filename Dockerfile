# Clauseflow's image: the API (default command) and, with another command, the worker
# and the migrations (see docker-compose.yml).

# --- build: the locked dependencies and the project, into a venv -------------------
FROM python:3.11-slim AS build

# durable-rules ships only as source with a C extension: it needs a compiler here.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Exactly the locked versions, each checked against its hash; nothing resolved here.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --no-deps -r /tmp/requirements.lock

# The project itself, built with the locked setuptools (no unpinned build download), as
# a wheel: the source is removed, so the image runs only what the wheel carries. No
# Docker here: tests/test_wheel.py builds this context's wheel, installs it without the
# source and starts the API.
COPY . /src
RUN pip install --no-deps --no-build-isolation /src && rm -rf /src

# --- runtime: no compiler, no source tree, not root -----------------------------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN groupadd --system --gid 10001 clauseflow \
    && useradd --system --uid 10001 --gid clauseflow --home-dir /app --shell /usr/sbin/nologin clauseflow \
    && mkdir -p /app \
    && chown clauseflow:clauseflow /app

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
USER clauseflow

EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# uvicorn's access and error lines in the JSON log lines too (runtime/logging.py).
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--log-config", "/opt/venv/lib/python3.11/site-packages/runtime/uvicorn_logging.json"]
