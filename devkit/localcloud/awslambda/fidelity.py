"""Run a bootstrap under AWS's own Runtime Interface Emulator (aws-lambda-rie), to compare with our runtime API.

`run_under_rie(bootstrap, event)` starts aws-lambda-rie on loopback ports with the bootstrap as its runtime,
invokes it once through RIE's `/2015-03-31/functions/function/invocations` endpoint and returns
`(http_status, body)`. `RieSession` keeps one RIE (one warm environment) for several invocations.

The RIE binary is found, in order: `$AWS_LAMBDA_RIE` (a binary), the cache
(`<cache_dir>/aws-lambda-rie/<version>/aws-lambda-rie`), a source checkout in `$AWS_LAMBDA_RIE_SRC` (built with
`go build`; its dependencies come from the Go module proxy), then `go install` of the pinned module version.

`PROBE_CASES` are the invocations compared: `python -m devkit.localcloud.awslambda.fidelity record BOOTSTRAP OUT`
runs them under RIE with the probe's bootstrap and writes OUT (tests/localcloud/fixtures/rie/probe.json), which
tests replay against our runtime API (so the comparison runs everywhere, even where RIE can't be installed).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any

from devkit.localcloud.backends.process import ManagedProcess
from devkit.localcloud.host import cache_dir as default_cache_dir
from devkit.localcloud.host import free_port

RIE_MODULE = "github.com/aws/aws-lambda-runtime-interface-emulator"
RIE_VERSION = "v0.0.0-20260102185807-4fa215715260"  # main @ 4fa2157 (2026-01-02): LMI support; tags aren't semver
INVOKE_PATH = "/2015-03-31/functions/function/invocations"


class RieUnavailable(RuntimeError):
    """aws-lambda-rie could not be found or built; the message says how to provide it."""


def rie_binary(cache_dir: Path | None = None) -> Path:
    """The aws-lambda-rie executable, built or installed into the cache on first use."""
    configured = os.environ.get("AWS_LAMBDA_RIE")
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise RieUnavailable(f"AWS_LAMBDA_RIE={configured} is not an executable file")
        return path
    home = (cache_dir or default_cache_dir()) / "aws-lambda-rie" / RIE_VERSION
    binary = home / "aws-lambda-rie"
    if binary.is_file():
        return binary
    go = shutil.which("go")
    if go is None:
        raise RieUnavailable("building aws-lambda-rie needs Go (https://go.dev/dl), or set AWS_LAMBDA_RIE")
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOBIN": str(home)}
    source = os.environ.get("AWS_LAMBDA_RIE_SRC")
    if source:
        cmd = [go, "build", "-o", str(binary), "./cmd/aws-lambda-rie"]
        done = subprocess.run(cmd, cwd=source, env=env, capture_output=True, text=True, timeout=600)
    else:
        cmd = [go, "install", f"{RIE_MODULE}/cmd/aws-lambda-rie@{RIE_VERSION}"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not binary.is_file():
        raise RieUnavailable(
            f"`{' '.join(cmd)}` failed: {(done.stderr or done.stdout).strip()[-600:]}\n"
            "Provide aws-lambda-rie with AWS_LAMBDA_RIE=/path/to/aws-lambda-rie, or a source checkout of "
            f"{RIE_MODULE} with AWS_LAMBDA_RIE_SRC=/path/to/checkout."
        )
    return binary


class RieSession:
    """One aws-lambda-rie process (one execution environment) running `bootstrap`, invoked over HTTP."""

    def __init__(
        self,
        bootstrap: Path,
        *,
        env: dict[str, str] | None = None,
        state_dir: Path | None = None,
        rie: Path | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.bootstrap = Path(bootstrap).resolve()
        self.env = dict(env or {})
        self.rie = rie
        self.timeout_s = timeout_s
        self.port = 0
        self.process = ManagedProcess(
            "aws-lambda-rie", Path(state_dir or Path(tempfile.gettempdir()) / "localcloud-rie")
        )

    def start(self) -> None:
        rie = self.rie or rie_binary()
        self.port = free_port()
        runtime_port = free_port()
        cmd = [
            str(rie),
            "--log-level",
            "error",
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.port}",
            "--runtime-api-address",
            f"127.0.0.1:{runtime_port}",
            str(self.bootstrap),
        ]
        self.process.start(cmd, env={"AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(self.timeout_s)), **self.env})
        self.process.wait_http(f"http://127.0.0.1:{self.port}", time.monotonic() + 15)

    def invoke(self, event: Any) -> tuple[int, bytes]:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s + 5)
        try:
            conn.request("POST", INVOKE_PATH, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.stop(grace=2.0)

    @property
    def log(self) -> str:
        return self.process.log_tail(200)

    def __enter__(self) -> RieSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_under_rie(
    bootstrap: Path, event: Any, *, env: dict[str, str] | None = None, state_dir: Path | None = None
) -> tuple[int, bytes]:
    """Invoke `bootstrap` once under aws-lambda-rie with `event` (bytes or JSON-able); (HTTP status, body)."""
    with RieSession(bootstrap, env=env, state_dir=state_dir) as session:
        return session.invoke(event)


# ---- probe cases: recorded under RIE, replayed against our runtime API --------------------------------------------
@dataclass(frozen=True)
class Case:
    """One invocation of the probe. `raw` events are sent as the bytes of `event` (a str), not as JSON."""

    name: str
    event: Any
    _: KW_ONLY  # how to send it and how to compare the answers
    raw: bool = False
    timeout_s: float = 3.0
    env: tuple[tuple[str, str], ...] = ()
    # How to compare with RIE: "exact" (normalised body), "error_type", or a note on a documented RIE quirk.
    compare: str = "exact"

    @property
    def payload(self) -> bytes:
        return self.event.encode() if self.raw else json.dumps(self.event).encode()


PROBE_CASES = (
    Case("echo", {"action": "echo", "nested": {"list": [1, 2, 3]}}),
    Case("status", {"action": "status", "status": 418}),
    Case("handler-error", {"action": "error"}),
    Case("sqs-partial-batch", {"Records": [{"messageId": "m1", "body": "ok"}, {"messageId": "m2", "body": "fail"}]}),
    Case("array-event", [1, 2, 3]),
    Case("response-100kb", {"action": "big", "bytes": 100_000}),
    Case("response-over-6mb", {"action": "big", "bytes": 7_000_000}),
    Case("invalid-json", "{not json", raw=True),
    Case("crash", {"action": "crash"}, compare="error_type"),
    Case("echo-after-crash", {"action": "echo"}),
    Case(
        "timeout",
        {"action": "sleep", "ms": 2000},
        timeout_s=1.0,
        compare="RIE answers the bare text 'Task timed out after 1.00 seconds'; AWS (and we) answer an error "
        "object whose errorMessage ends with it",
    ),
    Case("echo-after-timeout", {"action": "echo"}, timeout_s=1.0),
    Case(
        "init-failure",
        {"action": "echo"},
        env=(("PROBE_INIT_FAIL", "1"),),
        compare="RIE answers 502 with an empty body; we answer Runtime.ExitError as AWS does",
    ),
)
_REQUEST_ID = re.compile(r"RequestId: [0-9a-f-]{36}")


def normalise(body: bytes) -> Any:
    """A response without what varies per invocation (request ids), for comparison."""
    text = body.decode(errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        return _REQUEST_ID.sub("RequestId: <id>", text)
    if isinstance(value, dict) and isinstance(value.get("body"), str):
        with contextlib.suppress(ValueError):
            inner = json.loads(value["body"])
            if isinstance(inner, dict):
                inner.pop("request_id", None)
            value["body"] = inner
    if isinstance(value, dict) and isinstance(value.get("errorMessage"), str):
        value["errorMessage"] = _REQUEST_ID.sub("RequestId: <id>", value["errorMessage"])
    return _digest_long_strings(value)


def _digest_long_strings(value: Any) -> Any:
    """Strings over 1 KB become their length and hash (keeps recordings small, comparisons exact)."""
    if isinstance(value, str) and len(value) > 1024:
        return f"<{len(value)} chars, sha256 {hashlib.sha256(value.encode()).hexdigest()[:16]}>"
    if isinstance(value, dict):
        return {k: _digest_long_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_digest_long_strings(v) for v in value]
    return value


def record_under_rie(bootstrap: Path, cases: tuple[Case, ...] = PROBE_CASES) -> dict[str, Any]:
    """Run `cases` in order under aws-lambda-rie, one session per (timeout, env) group, like one warm function."""
    results: dict[str, Any] = {}
    session: RieSession | None = None
    key: tuple[float, tuple[tuple[str, str], ...]] | None = None
    try:
        for case in cases:
            if (case.timeout_s, case.env) != key:
                if session is not None:
                    session.stop()
                session = RieSession(bootstrap, env=dict(case.env), timeout_s=case.timeout_s)
                session.start()
                key = (case.timeout_s, case.env)
            assert session is not None
            status, body = session.invoke(case.payload)
            results[case.name] = {"status": status, "body": normalise(body)}
    finally:
        if session is not None:
            session.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    """`python -m devkit.localcloud.awslambda.fidelity record BOOTSTRAP OUT`: record the probe cases under
    aws-lambda-rie, running the probe's BOOTSTRAP (built by the caller, profile ci)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m devkit.localcloud.awslambda.fidelity")
    parser.add_argument("command", choices=["record"])
    parser.add_argument("bootstrap", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    document = {
        "rie": f"{RIE_MODULE}@{RIE_VERSION}",
        "bootstrap": "tests/fixtures/probe (profile ci)",
        "results": record_under_rie(args.bootstrap),
    }
    args.out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    print(f"recorded {len(document['results'])} cases under {document['rie']} → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
