"""The README's local workflow, black-box through ./inv: up → status → invoke → logs → fault → down."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.local_only


def _inv(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "inv"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_up_status_invoke_logs_down(tmp_path: Path) -> None:
    env = {**os.environ, "LOCALCLOUD_STATE_DIR": str(tmp_path / "state")}
    output = (tmp_path / "up.log").open("w")  # a file, not a pipe nobody reads (it would fill and block `up`)
    up = subprocess.Popen(
        [str(ROOT / "inv"), "up", "--port", "0", "--no-build"],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    control_file = tmp_path / "state" / "control.json"
    try:
        deadline = time.monotonic() + 120
        while not control_file.exists():
            assert up.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, "up did not become ready"
            time.sleep(0.1)
        control = json.loads(control_file.read_text())
        assert "AuthApi" in control["urls"] and "HttpApi" in control["urls"]

        again = _inv("up", "--port", "0", "--no-build", env=env)
        assert again.returncode != 0 and "already running" in again.stderr + again.stdout

        event = tmp_path / "event.json"
        event.write_text(json.dumps(_v2_event("/health/auth")))
        invoked = _inv("invoke", "AuthManager", "--event", str(event), env=env)
        assert invoked.returncode == 0, invoked.stderr
        assert json.loads(json.loads(invoked.stdout)["body"])["service"] == "auth"
        assert "REPORT RequestId:" in invoked.stderr  # the log tail, as `aws lambda invoke --log-type Tail`

        status = _inv("status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["functions"]["AuthManager"]["invocations"] >= 1

        logs = _inv("logs", "--function", "AuthManager", env=env)
        assert logs.returncode == 0 and "[AuthManager]" in logs.stdout

        fault = _inv("fault", "--function", "AuthManager", "--percentage", "100", "--prevent-execution", env=env)
        assert fault.returncode == 0, fault.stderr
        failed = _inv("invoke", "AuthManager", "--event", str(event), env=env)
        assert failed.returncode != 0 and "FaultInjection.InvocationError" in failed.stdout
        listed = json.loads(_inv("fault", env=env).stdout)
        assert listed["AuthManager"]["injected"]["error"] == 1
        refused = _inv("fault", "--function", "AuthManager", "--percentage", "500", env=env)
        assert refused.returncode != 0 and "percentage must be a number from 0 to 100" in refused.stderr
        assert _inv("fault", "--function", "AuthManager", "--clear", env=env).returncode == 0
        assert _inv("invoke", "AuthManager", "--event", str(event), env=env).returncode == 0, "cleared"

        down = _inv("down", env=env)
        assert down.returncode == 0, down.stderr
        assert up.wait(timeout=60) == 0
        assert not control_file.exists()
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        output.close()


def _v2_event(path: str) -> dict:
    now = int(time.time() * 1000)
    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "localhost"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": "test",
            "routeKey": f"GET {path}",
            "stage": "$default",
            "time": "24/Nov/2026:00:00:00 +0000",
            "timeEpoch": now,
        },
        "isBase64Encoded": False,
    }
