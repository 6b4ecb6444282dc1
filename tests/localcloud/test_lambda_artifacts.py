"""Artifacts staged as Lambda stages them: the whole package is the task root, not just `bootstrap`.

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html: Lambda runs the `bootstrap` file of the
deployment package, unpacked in /var/task (LAMBDA_TASK_ROOT); everything else in the package is there beside it.
https://docs.aws.amazon.com/lambda/latest/dg/configuration-function-zip.html: file permissions are the ones the
.zip records (bootstrap must be executable)."""

from __future__ import annotations

import json
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from devkit.localcloud.awslambda.artifact import ArtifactError, stage_artifact
from devkit.localcloud.cloud import LocalCloud, LocalCloudError
from tests.localcloud.support import function_spec, run, stack_spec

# A custom runtime that answers every invocation with files it reads from its task root.
RUNTIME = f"""#!{sys.executable}
import json, os, sys, urllib.request
root = os.environ["LAMBDA_TASK_ROOT"]
sys.path.insert(0, os.path.join(root, "lib"))
import helper
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as nxt:
        rid = nxt.headers["Lambda-Runtime-Aws-Request-Id"]
    with open(os.path.join(root, "data", "greeting.txt")) as f:
        body = {{"greeting": f.read(), "helper": helper.NAME, "cwd": os.getcwd() == root}}
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=json.dumps(body).encode(),
                                                  method="POST")).read()
"""


def _entry(name: str, mode: int | None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    if mode is not None:
        info.external_attr = (stat.S_IFREG | mode) << 16
    else:
        info.create_system = 0  # made on MS-DOS/Windows: no Unix mode recorded
    return info


def _zip(path: Path, *, modes: bool = True) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(_entry("bootstrap", 0o755 if modes else None), RUNTIME)
        archive.writestr(_entry("data/greeting.txt", 0o644 if modes else None), "hello from the package")
        archive.writestr(_entry("lib/helper.py", 0o600 if modes else None), 'NAME = "helper"\n')
    return path


def test_a_zip_is_unpacked_whole_with_its_modes(tmp_path: Path) -> None:
    bootstrap = stage_artifact(_zip(tmp_path / "fn.zip"), tmp_path / "root")
    assert bootstrap == tmp_path / "root" / "bootstrap"
    assert stat.S_IMODE(bootstrap.stat().st_mode) == 0o755
    assert (tmp_path / "root" / "data" / "greeting.txt").read_text() == "hello from the package"
    assert stat.S_IMODE((tmp_path / "root" / "lib" / "helper.py").stat().st_mode) == 0o600, "the recorded mode"

    plain = stage_artifact(_zip(tmp_path / "plain.zip", modes=False), tmp_path / "plain")
    assert stat.S_IMODE(plain.stat().st_mode) == 0o755, "bootstrap stays executable when no mode is recorded"
    assert stat.S_IMODE((tmp_path / "plain" / "data" / "greeting.txt").stat().st_mode) == 0o644


def test_a_directory_is_copied_whole_and_bad_packages_are_refused(tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "data").mkdir(parents=True)
    (package / "bootstrap").write_text(RUNTIME)
    (package / "bootstrap").chmod(0o755)
    (package / "data" / "greeting.txt").write_text("hi")
    bootstrap = stage_artifact(package, tmp_path / "root")
    assert bootstrap.stat().st_mode & 0o111 and (tmp_path / "root" / "data" / "greeting.txt").read_text() == "hi"

    with zipfile.ZipFile(tmp_path / "escape.zip", "w") as archive:
        archive.writestr("../outside", "x")
    with pytest.raises(ArtifactError, match="outside the package"):
        stage_artifact(tmp_path / "escape.zip", tmp_path / "escape")
    assert not (tmp_path / "outside").exists()
    with zipfile.ZipFile(tmp_path / "nobootstrap.zip", "w") as archive:
        archive.writestr("main", "x")
    with pytest.raises(ArtifactError, match="no bootstrap at its root"):
        stage_artifact(tmp_path / "nobootstrap.zip", tmp_path / "none")


def test_a_function_reads_the_files_of_its_package_from_the_task_root(tmp_path: Path) -> None:
    artifact = _zip(tmp_path / "fn.zip")

    async def body() -> None:
        async with LocalCloud(stack_spec([function_spec()]), {"Probe": artifact}, console=None) as cloud:
            result = await cloud.invoke("Probe", {})
            assert result.ok, result.outcome.body
            assert json.loads(result.outcome.body) == {
                "greeting": "hello from the package",
                "helper": "helper",
                "cwd": True,
            }

    run(body())
    with pytest.raises(LocalCloudError, match="not found"):
        LocalCloud(stack_spec([function_spec()]), {"Probe": tmp_path / "missing.zip"}, console=None)
