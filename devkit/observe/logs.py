"""Function logs for humans: parse our JSON log lines, filter them, print them; local files or CloudWatch Logs.

Every line a function prints is either one of our JSON log objects (`shared/platform/src/telemetry.rs`: level,
timestamp, function, request_id, trace_id, cold_start, message, fields), an EMF metrics document (`_aws`), or a
runtime line (START/END/REPORT, panics). `Entry` holds any of them; `pretty` renders one line per entry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devkit.localcloud import NO_REQUEST, LogRecord, follow_records, read_records

LEVELS = {"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "WARNING": 3, "ERROR": 4}
# Members shown in the message column or the prefix, never repeated as key=value.
_SHOWN = {"timestamp", "level", "message", "function", "request_id", "trace_id", "cold_start", "target"}
_KEY_FIELDS = ("method", "route", "status", "latency_ms", "command_id", "message_id", "outcome", "error")
# An HTTP API's access-log line (the template's JSON format): shown as one summary, not field by field.
_ACCESS_LOG = ("requestId", "routeKey")


@dataclass(frozen=True)
class Entry:
    timestamp: str
    function: str
    text: str  # the raw line as the function printed it
    fields: dict[str, Any] = field(default_factory=dict)  # the JSON object, when the line is one
    sink_request_id: str | None = None  # the request the local cloud attributed the line to (runtime lines)

    @property
    def level(self) -> str:
        if "_aws" in self.fields:
            return "METRIC"
        return str(self.fields.get("level") or "INFO").upper()

    @property
    def request_id(self) -> str | None:
        value = self.fields.get("request_id") or self.sink_request_id
        return str(value) if value else None

    @property
    def trace_id(self) -> str | None:
        value = self.fields.get("trace_id")
        return str(value) if value else None

    @property
    def is_access_log(self) -> bool:
        return all(k in self.fields for k in _ACCESS_LOG)

    @property
    def message(self) -> str:
        if self.is_access_log:
            f = self.fields
            summary = (
                f"{f.get('httpMethod', '-')} {f['routeKey']} {f.get('status', '-')} {f.get('responseLatency', '-')}ms"
            )
            error = f.get("integrationErrorMessage")
            return summary + (f" ({error})" if error and error != "-" else "")
        if "_aws" in self.fields:
            names = [m["Name"] for d in self.fields["_aws"].get("CloudWatchMetrics", []) for m in d.get("Metrics", [])]
            return "EMF " + ", ".join(f"{n}={self.fields.get(n)}" for n in names)
        return str(self.fields.get("message", self.text))


def parse(timestamp: str, function: str, text: str) -> Entry:
    fields: dict[str, Any] = {}
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            fields = parsed
    return Entry(str(fields.get("timestamp") or timestamp), function, text, fields)


def matches(
    entry: Entry,
    *,
    level: str = "",
    request_id: str = "",
    trace_id: str = "",
) -> bool:
    """`level` is a minimum (runtime and EMF lines count as INFO); ids match the fields or the raw text."""
    if level:
        wanted = LEVELS.get(level.upper(), 0)
        have = LEVELS.get(entry.level, LEVELS["INFO"])
        if have < wanted:
            return False
    if request_id and entry.request_id != request_id and request_id not in entry.text:
        return False
    return not (trace_id and entry.trace_id != trace_id and trace_id not in entry.text)


def local_entries(log_dir: Path, *, function: str = "", follow: bool = False) -> Iterator[Entry]:
    """Entries of the local cloud's log files; with `follow`, every entry so far and then new ones as written."""
    records: Iterable[LogRecord] = (
        follow_records(log_dir, function=function or None, from_start=True)
        if follow  # file by file as they grow
        else sorted(read_records(log_dir, function=function or None), key=lambda r: r.timestamp)  # stable: by time
    )
    for record in records:
        entry = parse(record.timestamp, record.function, record.text)
        if record.request_id != NO_REQUEST:
            entry = replace(entry, sink_request_id=record.request_id)
        yield entry


def pretty(entry: Entry) -> str:
    """`HH:MM:SS.mmm LEVEL  [Function]  message  key=value … [request id]`."""
    clock = entry.timestamp[11:23] if len(entry.timestamp) >= 23 else entry.timestamp
    summarised = "_aws" in entry.fields or entry.is_access_log
    keys = [f"{k}={entry.fields[k]}" for k in _KEY_FIELDS if k in entry.fields and not summarised]
    extra = [f"{k}={v}" for k, v in entry.fields.items() if k not in _SHOWN and k not in _KEY_FIELDS and not summarised]
    cold = " cold" if entry.fields.get("cold_start") is True and entry.request_id else ""
    rid = f" [{entry.request_id[:8]}{cold}]" if entry.request_id else ""
    return (
        " ".join(
            part for part in (clock, f"{entry.level:<6}", f"[{entry.function}]", entry.message, *keys, *extra) if part
        )
        + rid
    )


def render(entry: Entry, *, as_json: bool) -> str:
    if not as_json:
        return pretty(entry)
    if entry.fields:
        return json.dumps({"function": entry.function, **entry.fields}, separators=(",", ":"))
    return json.dumps({"timestamp": entry.timestamp, "function": entry.function, "message": entry.text})


# --- deployed stage: CloudWatch Logs ------------------------------------------------------------------


def log_groups(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """Function logical id → its log group (`/aws/lambda/<physical name>`), and each HTTP API's access-log group
    (`<Api>AccessLogs` → its name, the log group's physical id), from the stack's resources."""
    groups: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            logical, physical = resource["LogicalResourceId"], resource["PhysicalResourceId"]
            if resource["ResourceType"] == "AWS::Lambda::Function":
                groups[logical] = f"/aws/lambda/{physical}"
            elif resource["ResourceType"] == "AWS::Logs::LogGroup" and logical.endswith("AccessLogs"):
                groups[logical] = physical
    return groups


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"


def cloudwatch_entries(
    logs: Any,
    groups: dict[str, str],
    *,
    start_ms: int,
    filter_pattern: str = "",
) -> Iterator[tuple[int, str, Entry]]:
    """(event timestamp, event id, entry) from `filter_log_events` on each group, oldest first per group."""
    for function, group in sorted(groups.items()):
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        if filter_pattern:
            kwargs["filterPattern"] = filter_pattern
        try:
            pages = logs.get_paginator("filter_log_events").paginate(**kwargs)
            for page in pages:
                for event in page.get("events", []):
                    entry = parse(_iso(event["timestamp"]), function, event["message"])
                    yield event["timestamp"], event["eventId"], entry
        except logs.exceptions.ResourceNotFoundException:
            continue  # never invoked yet: no log group


def filter_pattern_for(request_id: str = "", trace_id: str = "") -> str:
    """A CloudWatch Logs filter pattern narrowing server-side (quoted terms match anywhere in the event)."""
    terms = [f'"{t}"' for t in (request_id, trace_id) if t]
    return " ".join(terms)


def follow_cloudwatch(
    logs: Any, groups: dict[str, str], *, since_ms: int, filter_pattern: str, poll_s: float = 2.0
) -> Iterable[Entry]:
    """Like `tail -f` over CloudWatch Logs: polls `filter_log_events`, yields each event once."""
    seen: set[str] = set()
    cursor = since_ms
    while True:
        for ts, event_id, entry in sorted(
            cloudwatch_entries(logs, groups, start_ms=cursor, filter_pattern=filter_pattern), key=lambda e: e[0]
        ):
            if event_id in seen:
                continue
            seen.add(event_id)
            cursor = max(cursor, ts)
            yield entry
        time.sleep(poll_s)  # polling interval of an open-ended follow (Ctrl-C stops it)


def show(
    entries: Iterable[Entry], *, level: str = "", request_id: str = "", trace_id: str = "", as_json: bool = False
) -> int:
    """Prints the matching entries (one line each); returns how many."""
    shown = 0
    for entry in entries:
        if matches(entry, level=level, request_id=request_id, trace_id=trace_id):
            print(render(entry, as_json=as_json), flush=True)
            shown += 1
    return shown


def deployed_entries(
    stage: str, *, function: str = "", since_minutes: float = 30.0, follow: bool = False, filter_pattern: str = ""
) -> Iterable[Entry]:
    """A deployed stage's function logs from CloudWatch Logs (`filter_log_events` per function log group)."""
    import boto3

    from devkit.localcloud import stack_name_for

    groups = log_groups(boto3.client("cloudformation"), stack_name_for(stage))
    if function:
        if function not in groups:
            raise KeyError(f"{stage} has no function {function!r} (functions: {', '.join(sorted(groups))})")
        groups = {function: groups[function]}
    logs = boto3.client("logs")
    start_ms = int((time.time() - since_minutes * 60) * 1000)
    if follow:
        return follow_cloudwatch(logs, groups, since_ms=start_ms, filter_pattern=filter_pattern)
    found = sorted(
        cloudwatch_entries(logs, groups, start_ms=start_ms, filter_pattern=filter_pattern), key=lambda e: e[0]
    )
    return [entry for _, _, entry in found]


@dataclass(frozen=True)
class LogQuery:
    """Which lines `./inv logs` shows: of one function, request or X-Ray trace, at a minimum level (empty: any)."""

    function: str = ""
    request_id: str = ""
    trace_id: str = ""
    level: str = ""


def show_logs(query: LogQuery, *, follow: bool, as_json: bool, stage: str, since_minutes: float) -> None:
    """`./inv logs`: the local cloud's function logs (.localcloud/logs) or a deployed stage's (CloudWatch Logs)."""
    from devkit import paths
    from devkit.errors import TaskFailure

    function, request_id, trace_id, level = query.function, query.request_id, query.trace_id, query.level

    if level and level.upper() not in LEVELS:
        raise TaskFailure(f"--level must be one of debug, info, warn, error (got {level!r})")
    if stage:
        pattern = filter_pattern_for(request_id, trace_id)
        try:
            entries = deployed_entries(
                stage, function=function, since_minutes=since_minutes, follow=follow, filter_pattern=pattern
            )
        except KeyError as err:
            raise TaskFailure(str(err)) from None
    else:
        log_dir = paths.STATE_DIR / "logs"
        if not log_dir.is_dir():
            raise TaskFailure("no local cloud logs yet: start the stack with `./inv up` (or pass --stage NAME)")
        entries = local_entries(log_dir, function=function, follow=follow)
    show(entries, level=level, request_id=request_id, trace_id=trace_id, as_json=as_json)  # Ctrl-C ends -f
