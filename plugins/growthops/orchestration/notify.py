"""Failure notifications through Airflow's notifier mechanism (SPEC §7), off by default.

Turn them on by naming an Airflow connection — ``GROWTHOPS_NOTIFY_CONN_ID=growthops_notify`` in the
environment of the scheduler, DAG processor and workers, or ``[notify] conn_id`` in
``config/growthops.toml``. The connection's type picks the channel:

- ``http`` / ``https``: a JSON ``POST`` to a webhook (Slack/Teams/Mattermost-style incoming hooks
  read its ``text``). URL: ``extra.url`` if set, else ``<type or schema>://host[:port]/<schema>``
  plus ``extra.endpoint``; ``extra.headers`` are sent; login/password become basic auth.
  e.g. ``AIRFLOW_CONN_GROWTHOPS_NOTIFY='https://hooks.example.com/services/T000/B000/XXXX'``;
- ``smtp`` / ``email``: a mail through :mod:`smtplib` to ``extra.to`` (comma separated), from
  ``extra.from_email``; ``extra.ssl`` (default: port 465) and ``extra.starttls`` (default: port 587);
  e.g. ``AIRFLOW_CONN_GROWTHOPS_NOTIFY='smtp://user:pass@mail.example.com:587?to=oncall%40example.com'``.

What is sent: the one-sentence summary of the failure report the task wrote
(``<data>/runs/<dag_id>/<run_id>/<task_id>.json``) and the report's path; the mail also carries the
report itself. A task that died without a report (killed, or an unexpected error) is announced
with its exception and log URL.

A notification that cannot be sent is logged and swallowed: the task stays failed, its report
stays written. :func:`failure_callbacks` is what the DAGs put in ``default_args``
(``on_failure_callback``): :func:`log_oncall_summary` (always: the summary and report path as the
task log's last lines) and :func:`failure_notifiers` (``[]`` when nothing is configured).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from airflow.sdk import BaseNotifier

from growthops.config import DEFAULT_CONFIG_FILE
from growthops.logs import get_logger

log = get_logger(__name__)

ENV_CONN_ID = "GROWTHOPS_NOTIFY_CONN_ID"
DEFAULT_TIMEOUT = 10.0
WEBHOOK_TYPES = {"http", "https"}
SMTP_TYPES = {"smtp", "email"}


def notify_config(env: dict[str, str] | None = None) -> dict[str, Any]:
    """``{"conn_id": str | None, "timeout_seconds": float}`` from the environment or ``[notify]``.

    Same override rule as every other key: ``GROWTHOPS_NOTIFY_CONN_ID`` beats ``[notify] conn_id``.
    Read at DAG parse time: one small TOML file, no connection lookup.
    """
    env = dict(os.environ if env is None else env)
    section: dict[str, Any] = {}
    try:
        with Path(env.get("GROWTHOPS_CONFIG", DEFAULT_CONFIG_FILE)).open("rb") as fh:
            section = tomllib.load(fh).get("notify", {}) or {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        log.warning("could not read [notify] from the growthops config: %s", exc)
    conn_id = env.get(ENV_CONN_ID, section.get("conn_id", "")) or ""
    timeout = env.get("GROWTHOPS_NOTIFY_TIMEOUT_SECONDS", section.get("timeout_seconds", DEFAULT_TIMEOUT))
    return {"conn_id": conn_id.strip() or None, "timeout_seconds": float(timeout)}


@dataclass
class Notification:
    summary: str
    kind: str | None
    dag_id: str
    task_id: str
    run_id: str
    try_number: int | None
    report_path: str | None
    log_url: str | None = None
    report_markdown: str | None = None

    @property
    def title(self) -> str:
        return f"[growthops] FAILED {self.dag_id}.{self.task_id}: {self.summary}"[:250]

    @property
    def text(self) -> str:
        where = f"{self.dag_id} / {self.task_id} / {self.run_id}" + (
            f" (try {self.try_number})" if self.try_number is not None else ""
        )
        lines = [f"FAILED: {self.summary}", f"where: {where}"]
        if self.report_path:
            lines.append(f"report: {self.report_path}")
        else:
            lines.append("no failure report was written (task killed or unexpected error): see the task log")
        if self.log_url:
            lines.append(f"log: {self.log_url}")
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("report_markdown")
        return {"text": self.text, **data}


def build_notification(context: dict[str, Any]) -> Notification:
    """The message for a failed task: its report's summary and path, else its exception."""
    from growthops.config import load_settings
    from growthops.reports import read_report

    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag, "dag_id", None) or "unknown"
    task_id = getattr(ti, "task_id", None) or "unknown"
    run_id = context.get("run_id") or getattr(ti, "run_id", None) or "unknown"
    try_number = getattr(ti, "try_number", None)
    try:
        log_url = getattr(ti, "log_url", None)
    except Exception:  # needs the API base URL configured; a nicety only
        log_url = None
    report = None
    try:
        report = read_report(load_settings(), dag_id, run_id, task_id)
    except Exception as exc:
        log.warning("could not read the failure report of %s.%s: %s", dag_id, task_id, exc)
    task = dict(dag_id=dag_id, task_id=task_id, run_id=run_id, try_number=try_number, log_url=log_url)
    if report:
        markdown = None
        try:
            markdown = Path(report["report_path"]).read_text(encoding="utf-8")
        except (OSError, KeyError, TypeError):
            pass
        return Notification(
            summary=str(report.get("summary")),
            kind=report.get("kind"),
            report_path=report.get("report_path"),
            report_markdown=markdown,
            **task,
        )
    exc = context.get("exception")
    what = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else str(exc or "task failed")
    return Notification(
        summary=(what.splitlines() or ["task failed"])[0][:300], kind=None, report_path=None, **task
    )


def _get_connection(conn_id: str) -> Any:
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id)


def webhook_url(conn: Any) -> str:
    extra = conn.extra_dejson or {}
    if extra.get("url"):
        return str(extra["url"])
    host = (conn.host or "").rstrip("/")
    if not host:
        raise ValueError(f"connection {conn.conn_id!r} has no host (or extra.url) for the webhook")
    path = ""
    if "://" in host:
        base = host
    else:
        scheme = conn.conn_type if conn.conn_type in WEBHOOK_TYPES else "http"
        if conn.schema in WEBHOOK_TYPES:
            scheme = conn.schema
        elif conn.schema:
            path = conn.schema.strip("/")
        base = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
    url = base + (f"/{path}" if path else "")
    endpoint = str(extra.get("endpoint") or "").lstrip("/")
    return url + (f"/{endpoint}" if endpoint else "")


def send_webhook(conn: Any, note: Notification, timeout: float) -> None:
    import base64
    import urllib.request

    extra = conn.extra_dejson or {}
    headers = {"Content-Type": "application/json", **(extra.get("headers") or {})}
    if conn.login:
        token = base64.b64encode(f"{conn.login}:{conn.password or ''}".encode()).decode()
        headers.setdefault("Authorization", f"Basic {token}")
    request = urllib.request.Request(
        webhook_url(conn),
        data=json.dumps(note.payload(), default=str).encode("utf-8"),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status >= 300:
            raise OSError(f"webhook answered HTTP {response.status}")


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def send_mail(conn: Any, note: Notification, timeout: float) -> None:
    import smtplib
    import socket
    from email.message import EmailMessage

    extra = conn.extra_dejson or {}
    recipients = extra.get("to") or extra.get("to_email") or []
    if isinstance(recipients, str):
        recipients = [r.strip() for r in recipients.split(",") if r.strip()]
    if not recipients:
        raise ValueError(f"connection {conn.conn_id!r} has no recipients (extra.to)")
    port = int(conn.port or 25)
    sender = extra.get("from_email") or conn.login or f"growthops@{socket.getfqdn()}"
    msg = EmailMessage()
    msg["Subject"] = note.title
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    body = note.text
    if note.report_markdown:
        body += "\n\n" + note.report_markdown
    msg.set_content(body)
    use_ssl = _flag(extra.get("ssl"), port == 465)
    smtp_cls = smtplib.SMTP_SSL if use_ssl else smtplib.SMTP
    with smtp_cls(conn.host, port, timeout=timeout) as smtp:
        if not use_ssl and _flag(extra.get("starttls"), port == 587):
            smtp.starttls()
        if conn.login:
            smtp.login(conn.login, conn.password or "")
        smtp.send_message(msg)


def send(conn_id: str, note: Notification, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Send ``note`` through connection ``conn_id``; returns the channel used. Raises on failure."""
    conn = _get_connection(conn_id)
    conn_type = (conn.conn_type or "").lower()
    if conn_type in WEBHOOK_TYPES:
        send_webhook(conn, note, timeout)
        return "webhook"
    if conn_type in SMTP_TYPES:
        send_mail(conn, note, timeout)
        return "smtp"
    raise ValueError(
        f"connection {conn_id!r} has type {conn.conn_type!r}: use http/https (webhook) or smtp/email"
    )


class FailureNotifier(BaseNotifier):
    """Announce a failed task (its report's one-sentence summary and path) through a connection.

    Never raises: a notification that cannot be sent is logged, the task stays failed.
    """

    template_fields = ()

    def __init__(self, conn_id: str, timeout: float = DEFAULT_TIMEOUT):
        super().__init__()
        self.conn_id = conn_id
        self.timeout = timeout
        self.last_error: str | None = None  # for tests and the log

    def notify(self, context: dict[str, Any]) -> None:
        note = None
        try:
            note = build_notification(context)
            channel = send(self.conn_id, note, self.timeout)
            self.last_error = None
            log.info(
                "failure notification sent (%s via connection %s): %s", channel, self.conn_id, note.summary
            )
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error(
                "could not send the failure notification through connection %r: %s — the task stays "
                "failed; its report: %s",
                self.conn_id,
                self.last_error,
                (note.report_path if note else None) or "see the task log",
            )

    def __call__(self, *args: Any) -> None:
        try:
            super().__call__(*args)
        except Exception as exc:  # templating or context trouble: still never mask the failure
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("failure notifier %s crashed: %s", self.conn_id, self.last_error)


def log_oncall_summary(context: dict[str, Any]) -> None:
    """``on_failure_callback`` of every growthops task: the task log's last lines say what on-call
    needs — the report's one-sentence summary and path, and where the UI links to it — or, for a
    task that died without writing a report (an unexpected error), that no report exists and the
    exception above is the cause. Never raises."""
    try:
        note = build_notification(context)
    except Exception as exc:  # the log line is a nicety; never mask the task's own failure
        log.warning("could not summarise the failure for on-call: %s", exc)
        return
    lines = ["on-call summary", note.text]
    if note.report_path:
        lines.append("the task page's 'Failure report' link opens this report")
    log.error("%s", "\n".join(lines))


def failure_callbacks(env: dict[str, str] | None = None) -> list[Any]:
    """``on_failure_callback`` for DAG ``default_args``: the on-call summary in the task log, then
    the configured notifiers (none unless a connection is named)."""
    return [log_oncall_summary, *failure_notifiers(env)]


def failure_notifiers(env: dict[str, str] | None = None) -> list[FailureNotifier]:
    """``on_failure_callback`` for DAG ``default_args``: ``[]`` unless a connection is configured."""
    config = notify_config(env)
    if not config["conn_id"]:
        return []
    return [FailureNotifier(config["conn_id"], timeout=config["timeout_seconds"])]
