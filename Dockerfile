# syntax=docker/dockerfile:1
# growthops image for docker-compose.yml: Airflow 3 + dbt + Great Expectations + DuckDB, installed
# from the committed uv.lock with the same `uv sync --frozen` CI runs (`make install`), plus the
# celery extra for the Celery worker profile, the s3 extra (landing on object storage) and without
# the dev group.
FROM python:3.11-slim-bookworm

ARG AIRFLOW_UID=50000
ARG UV_VERSION=0.13.9

# curl: healthchecks; tini: PID 1 that forwards signals (warm shutdown of Celery workers).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl tini \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir "uv==${UV_VERSION}"

ENV GROWTHOPS_HOME=/opt/growthops \
    AIRFLOW_HOME=/opt/airflow \
    HOME=/home/airflow \
    UV_PROJECT_ENVIRONMENT=/opt/growthops/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/growthops/.venv/bin:$PATH \
    GROWTHOPS_DATA_DIR=/opt/growthops/data \
    GROWTHOPS_DBT_PROJECT_DIR=/opt/growthops/dbt_project \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/growthops/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/growthops/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    GX_ANALYTICS_ENABLED=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False

# Non-root user; group 0 and group-writable folders so that any AIRFLOW_UID works (as in the
# official Airflow image).
RUN useradd --uid "${AIRFLOW_UID}" --gid 0 --home-dir /home/airflow --create-home --shell /bin/bash airflow

WORKDIR /opt/growthops

# Dependencies first (cached while only the code changes), exactly from uv.lock.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --extra postgres --extra celery --extra s3 --no-dev --no-install-project

COPY plugins ./plugins
COPY dags ./dags
COPY dbt_project ./dbt_project
COPY expectations ./expectations
COPY config ./config
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --extra postgres --extra celery --extra s3 --no-dev

# Writable: the data root, the dbt project (manifest, dbt logs), Airflow home, logs and auth.
# The virtual environment and the code stay root-owned and read-only.
RUN mkdir -p /opt/growthops/data /opt/growthops/dbt_project/target /opt/airflow/logs /opt/airflow/auth \
    && chown -R "${AIRFLOW_UID}:0" /opt/growthops/data /opt/growthops/dbt_project /opt/airflow /home/airflow \
    && chmod -R g+rwX /opt/growthops/data /opt/growthops/dbt_project /opt/airflow /home/airflow

USER ${AIRFLOW_UID}:0
EXPOSE 8080 8974 5555
ENTRYPOINT ["/usr/bin/tini", "--", "airflow"]
CMD ["version"]
