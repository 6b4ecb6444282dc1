"""Observability through a real run on the local cloud: correlated JSON logs, EMF metrics, a trace across SQS.

One module-scoped story performs its own actions (register, login, a payment, an admin currency write that the
projector applies), then each test reads what the functions printed into the local cloud's log files.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests

from devkit import targets
from devkit.observe import logs as logview
from devkit.observe import metrics
from devkit.targets import admin
from tests.support import Stack, unique_email, wait_for

PASSWORD = "observability story password"
CODE = "KES"  # this module's currency (tests own their codes)

pytestmark = pytest.mark.local_only


def entries(stack: Stack, function: str = "") -> list[logview.Entry]:
    assert stack.state_dir is not None
    return list(logview.local_entries(stack.state_dir / "logs", function=function))


def story_line(stack: Stack, story: Story, function: str, message: str) -> Callable[[], logview.Entry | None]:
    """A probe for `wait_for`: the first line of `function` saying `message` about the story's command, or None."""

    def first() -> logview.Entry | None:
        found = [
            e
            for e in entries(stack, function)
            if e.message == message and e.fields.get("command_id") == story.command_id
        ]
        return found[0] if found else None

    return first


@dataclass(frozen=True)
class Story:
    command_id: str


@pytest.fixture(scope="module")
def story(stack: Stack) -> Story:
    assert stack.state_dir is not None
    local = targets.local(stack.state_dir)
    with requests.Session() as http:
        email = unique_email("observability")
        assert http.post(f"{stack.auth}/register", json={"email": email, "password": PASSWORD}, timeout=30).ok
        assert admin.grant_admin(local.client("dynamodb"), local.output("UsersTableName"), email)
        login = http.post(f"{stack.auth}/login", json={"email": email, "password": PASSWORD}, timeout=30)
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        lines = [{"description": "Audit", "quantity": 1, "unit_price": 5000, "tax_rate_bps": 0}]
        invoice = http.post(
            f"{stack.api}/invoices", json={"currency": "EUR", "lines": lines}, headers=bearer, timeout=30
        )
        assert invoice.status_code == 201, invoice.text
        payment = http.post(
            f"{stack.api}/payments",
            json={"invoice_id": invoice.json()["id"], "amount": 5000, "currency": "EUR"},
            headers={**bearer, "Idempotency-Key": str(uuid.uuid4())},
            timeout=30,
        )
        assert payment.status_code == 201, payment.text
        command_id = f"e2e-obs-{uuid.uuid4().hex[:12]}"
        body = {"code": CODE, "name": "Kenyan Shilling", "minor_units": 2, "rate_to_base": "0.0071"}
        accepted = http.post(
            f"{stack.api}/currencies", json=body, headers={**bearer, "Idempotency-Key": command_id}, timeout=30
        )
        assert accepted.status_code == 202, accepted.text

        def applied() -> bool:
            reply = http.get(f"{stack.api}/commands/{command_id}", headers=bearer, timeout=30)
            return reply.ok and reply.json()["status"] == "applied"

        wait_for(f"command {command_id} applied", applied)
    return Story(command_id)


def test_one_trace_id_follows_a_currency_write_through_sqs_into_the_projector(stack: Stack, story: Story) -> None:
    accepted = story_line(stack, story, "CurrencyWrite", "command accepted")
    write = wait_for("the write function's 'command accepted' line", accepted)
    trace_id, request_id = write.trace_id, write.request_id
    assert trace_id and trace_id.startswith("1-") and request_id, write.fields

    # The write: the access-log line of the same request carries the same trace id.
    requests_ = [e for e in entries(stack, "CurrencyWrite") if e.request_id == request_id and e.message == "request"]
    assert [(e.trace_id, e.fields["method"], e.fields["route"], e.fields["status"]) for e in requests_] == [
        (trace_id, "POST", "/currencies", 202)
    ]

    # The SQS hop and the projector's application: the projector's line for that message, under the same trace id
    # (from the message's AWSTraceHeader) although the projector runs in its own invocation.
    projected = story_line(stack, story, "CurrencyProjector", "command projected")
    applied = wait_for("the projector's 'command projected' line", projected)
    assert applied.trace_id == trace_id, (applied.fields, trace_id)
    assert applied.fields.get("message_id") and applied.fields.get("outcome") == "written"
    assert applied.request_id and applied.request_id != request_id  # another invocation, same story

    # One id finds the whole story, across functions, as `./inv logs --trace-id` filters.
    story_lines = [e for e in entries(stack) if logview.matches(e, trace_id=trace_id)]
    assert {e.function for e in story_lines} >= {"CurrencyWrite", "CurrencyProjector"}
    assert {"request", "command accepted", "command projected"} <= {e.message for e in story_lines}


def test_every_log_line_is_json_with_the_correlation_fields(stack: Stack, story: Story) -> None:
    access_logs = [e for e in entries(stack) if e.is_access_log]  # the HTTP APIs' own lines, in the stage's format
    assert {"POST /register", "POST /login"} <= {e.fields["routeKey"] for e in access_logs}
    for entry in access_logs:
        assert entry.function.endswith("AccessLogs"), entry.function
        for key in ("requestId", "ip", "requestTime", "httpMethod", "status", "protocol", "responseLatency"):
            assert entry.fields.get(key) not in (None, "-"), (key, entry.text)
    rust_lines = [e for e in entries(stack) if e.fields and "_aws" not in e.fields and not e.is_access_log]
    assert len(rust_lines) > 10
    for entry in rust_lines:
        for key in ("timestamp", "level", "message", "function", "request_id", "trace_id", "cold_start"):
            assert key in entry.fields, (key, entry.text)
        assert isinstance(entry.fields["cold_start"], bool)
        if entry.request_id and not entry.fields.get("background"):
            assert entry.trace_id, entry.text  # inside an invocation the trace id is always known
        if entry.fields.get("background"):  # work that runs outside invocations (a secret read from init on)
            assert entry.fields["request_id"] is None and entry.message.startswith("prefetch"), entry.text
    access = [e for e in rust_lines if e.message == "request"]
    assert {"/register", "/login", "/payments", "/currencies"} <= {e.fields["route"] for e in access}
    for entry in access:
        assert isinstance(entry.fields["latency_ms"], float) and entry.fields["latency_ms"] >= 0
        assert isinstance(entry.fields["status"], int)
    # Non-JSON lines are only the runtime's own (START/END/REPORT/INIT/…), never our code's.
    others = [e.text for e in entries(stack) if not e.fields]
    assert all(t.split(" ", 1)[0] in {"START", "END", "REPORT", "INIT_START", "EXTENSION"} for t in others), [
        t for t in others if t.split(" ", 1)[0] not in {"START", "END", "REPORT", "INIT_START", "EXTENSION"}
    ][:5]


def test_emf_lines_from_the_run_are_valid_and_cover_requests_and_business_events(stack: Stack, story: Story) -> None:
    assert stack.state_dir is not None
    wanted = {"Requests", "Errors", "Latency", "ColdStart", "Registrations", "Logins", "Payments", "CommandsApplied"}

    def docs() -> list[dict] | None:
        found = [doc for _, doc in metrics.local_documents(stack.state_dir / "logs")]
        names = {m["Name"] for d in found for c in d["_aws"]["CloudWatchMetrics"] for m in c["Metrics"]}
        return found if wanted <= names else None

    documents = wait_for(f"EMF lines for {sorted(wanted)}", docs)
    for doc in documents:
        assert metrics.validate(doc) == [], doc
    namespaces = {c["Namespace"] for d in documents for c in d["_aws"]["CloudWatchMetrics"]}
    assert len(namespaces) == 1 and next(iter(namespaces)).startswith("lambda-rust-reference/"), namespaces
    series = metrics.aggregate(documents)
    routes = {dict(s.dimensions).get("Route") for s in series if s.metric == "Latency"}
    assert {"POST /currencies", "POST /login"} <= routes
    table = metrics.table(series)
    assert "Registrations" in table and "p99" in table.splitlines()[0]
