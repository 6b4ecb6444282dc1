"""The Lambda-compatibility check: every built bootstrap loads on provided.al2023 and runs with no other files."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from devkit import build
from devkit.build import glibc


@pytest.fixture(scope="session")
def bootstraps() -> dict[str, build.Artifact]:
    names = build.workspace_binaries(include_fixtures=True)
    return build.build_bootstraps(names, profile="ci", quiet=True)


def test_every_bootstrap_needs_no_glibc_newer_than_al2023(bootstraps: dict[str, build.Artifact]) -> None:
    assert bootstraps, "no bootstraps were built"
    for name, artifact in bootstraps.items():
        report = glibc.inspect(artifact.bootstrap)
        assert report.machine == "EM_X86_64", name
        assert report.problems() == [], f"{name}: {report.problems()}"
        assert report.static or report.max_glibc is not None, f"{name}: dynamic but no GLIBC versions"


def test_checker_rejects_a_binary_built_against_a_newer_glibc(tmp_path: Path) -> None:
    # arc4random exists since glibc 2.36: a host build that uses it needs GLIBC_2.36 > 2.34.
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed (Rust needs one to link on Linux too)"
    source = tmp_path / "new.c"
    source.write_text("#include <stdlib.h>\nint main(void) { return (int)(arc4random() & 1); }\n")
    result = subprocess.run([cc, str(source), "-o", str(tmp_path / "new")], capture_output=True, text=True)
    if result.returncode != 0:  # host glibc older than 2.36: fall back to any glibc-versioned host binary
        pytest.fail(f"could not build the newer-glibc sample: {result.stderr}")
    report = glibc.inspect(tmp_path / "new")
    assert report.max_glibc is not None and report.max_glibc >= (2, 36)
    assert any("needs GLIBC 2.36" in p for p in report.problems())


def test_checker_rejects_libraries_lambda_lacks() -> None:
    report = glibc.LinkReport(Path("x"), "EM_X86_64", False, ("libc.so.6", "libssl.so.3"), ((2, 17),))
    assert report.problems() == ["links shared libraries Lambda does not have: libssl.so.3"]


class _RuntimeApiStub(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []
    got_next = threading.Event()

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        type(self).got_next.set()
        self.send_response(500)  # nothing to hand out; the runtime will retry or exit — we only need the call
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_bootstrap_runs_alone_and_polls_the_runtime_api(bootstraps: dict[str, build.Artifact], tmp_path: Path) -> None:
    # Copied alone into an empty directory (as Lambda unpacks the zip), it must start and call /next.
    lonely = tmp_path / "bootstrap"
    shutil.copy2(bootstraps["probe"].bootstrap, lonely)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RuntimeApiStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"PATH": "/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_port}"}
    env |= {"AWS_LAMBDA_FUNCTION_NAME": "probe", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}
    env |= {"AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1"}
    proc = subprocess.Popen([str(lonely)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert _RuntimeApiStub.got_next.wait(timeout=10), "bootstrap never called the Runtime API"
        assert any(p.startswith("/2018-06-01/runtime/invocation/next") for p in _RuntimeApiStub.seen)
    finally:
        proc.kill()
        proc.wait()
        server.shutdown()
    assert os.listdir(tmp_path) == ["bootstrap"]
