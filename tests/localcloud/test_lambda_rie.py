"""fidelity.py plumbing: finding aws-lambda-rie, and driving it over HTTP.

The real aws-lambda-rie can't be installed on this machine (the Go module proxy refuses the module), so these
tests use a stand-in executable with RIE's command line and invoke endpoint; with AWS_LAMBDA_RIE pointing at a
real build, `run_under_rie` runs the probe under AWS's emulator (see the issue note for that comparison).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from devkit.localcloud.awslambda import fidelity
from devkit.localcloud.awslambda.fidelity import RieSession, RieUnavailable, rie_binary, run_under_rie

# RIE's CLI (--runtime-interface-emulator-address HOST:PORT ... BOOTSTRAP) and invoke endpoint; it answers with
# what it received so the test sees the event, the bootstrap path and the environment RIE was given.
FAKE_RIE = """#!{python}
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
args = sys.argv[1:]
host, port = args[args.index("--runtime-interface-emulator-address") + 1].split(":")
bootstrap = args[-1]
class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        self.send_response(404); self.end_headers()
    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps({{"path": self.path, "event": event, "bootstrap": bootstrap,
                           "timeout": os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT"),
                           "extra": os.environ.get("EXTRA")}}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
HTTPServer((host, int(port)), Handler).serve_forever()
"""


@pytest.fixture()
def fake_rie(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "aws-lambda-rie"
    path.write_text(FAKE_RIE.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("AWS_LAMBDA_RIE", str(path))
    return path


def test_run_under_rie_posts_the_event_to_the_invoke_endpoint(fake_rie: Path, tmp_path: Path) -> None:
    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_text("")
    status, body = run_under_rie(bootstrap, {"action": "echo"}, env={"EXTRA": "1"}, state_dir=tmp_path / "rie")
    assert status == 200
    answer = json.loads(body)
    assert answer == {
        "path": "/2015-03-31/functions/function/invocations",
        "event": {"action": "echo"},
        "bootstrap": str(bootstrap.resolve()),
        "timeout": "30",
        "extra": "1",
    }
    assert not (tmp_path / "rie" / "aws-lambda-rie.pid").exists()  # stopped


def test_a_session_serves_several_invocations(fake_rie: Path, tmp_path: Path) -> None:
    with RieSession(tmp_path / "bootstrap", state_dir=tmp_path / "rie", timeout_s=5) as session:
        pid = session.process.proc.pid if session.process.proc else None
        answers = [json.loads(session.invoke({"n": n})[1])["event"]["n"] for n in range(3)]
        assert answers == [0, 1, 2]
        assert session.process.proc is not None and session.process.proc.pid == pid
    assert not session.process.alive()


def test_rie_binary_rejects_a_non_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_RIE", str(tmp_path / "missing"))
    with pytest.raises(RieUnavailable, match="is not an executable file"):
        rie_binary(tmp_path)


def test_rie_binary_explains_how_to_provide_rie_when_go_cannot_fetch_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_RIE", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_RIE_SRC", raising=False)
    monkeypatch.setenv("GOPROXY", "off")  # no module download: fails at once, offline
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setenv("GOPATH", str(tmp_path / "gopath"))
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "gopath" / "mod"))
    with pytest.raises(RieUnavailable) as caught:
        rie_binary(tmp_path)
    message = str(caught.value)
    assert f"{fidelity.RIE_MODULE}/cmd/aws-lambda-rie@{fidelity.RIE_VERSION}" in message
    assert "AWS_LAMBDA_RIE=" in message and "AWS_LAMBDA_RIE_SRC=" in message


def test_a_cached_build_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_RIE", raising=False)
    cached = tmp_path / "aws-lambda-rie" / fidelity.RIE_VERSION / "aws-lambda-rie"
    cached.parent.mkdir(parents=True)
    cached.write_text("#!/bin/sh\n")
    os.chmod(cached, 0o755)
    assert rie_binary(tmp_path) == cached
