"""The `dynamodb-local` backend: Amazon DynamoDB Local + ElasticMQ (SQS), both real engines, as Java processes.

Both come from Maven Central. Maven (`mvn dependency:copy-dependencies`, into a Maven repository inside the
cache dir) resolves each server with its dependencies once; later runs are offline. DynamoDB Local's
sqlite4java natives arrive as `.so` dependencies and are copied to the file name sqlite4java loads from
`-Djava.library.path`. DynamoDB Local runs `-inMemory -sharedDb` (one database whatever the access key),
ElasticMQ runs with a generated config whose queue URLs and ARNs use the stack's region and account.
DynamoDB Local has no host option (its Jetty server listens on every interface), so it runs through a small
launcher (`java/LoopbackDynamoDbLocal.java`, compiled with javac once per version into the cache) that binds it to
127.0.0.1: nothing on the network can read or write its tables. ElasticMQ binds 127.0.0.1 by its own config.
With `LOCALCLOUD_DYNAMODB_DB_PATH` set, DynamoDB Local keeps its tables in that directory instead (`-dbPath`), so
they survive a restart of the server (the reliability suite stops and restarts it, see `relaunch_server`).
Every other service (Secrets Manager, STS, ...) goes to a moto server beside them, so no call leaves the
machine: functions get AWS_ENDPOINT_URL (moto) plus AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.localcloud.backends.base import Backend, BackendError, BackendKind, loopback_endpoint
from devkit.localcloud.backends.moto import MotoBackend
from devkit.localcloud.backends.process import ManagedProcess
from devkit.localcloud.host import free_port

DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
FETCH_TIMEOUT_S = 900
JVM_OPTIONS = ["-Xms32m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]


@dataclass(frozen=True)
class MavenServer:
    name: str  # directory name under the cache dir
    group: str
    artifact: str
    version: str
    main_class: str

    @property
    def coordinates(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"


DYNAMODB_LOCAL = MavenServer(
    "dynamodb-local",
    "software.amazon.dynamodb",
    "DynamoDBLocal",
    "3.3.1",
    "software.amazon.dynamodb.services.local.main.ServerRunner",
)
ELASTICMQ = MavenServer("elasticmq", "org.elasticmq", "elasticmq-server_2.13", "1.7.1", "org.elasticmq.server.Main")
DB_PATH_ENV = "LOCALCLOUD_DYNAMODB_DB_PATH"  # set: tables on disk there (survive a restart); unset: in memory
SQLITE_NATIVE = {"x86_64": "linux-amd64", "amd64": "linux-amd64", "aarch64": "linux-aarch64", "arm64": "linux-aarch64"}

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.devkit</groupId><artifactId>fetch-{name}</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version></dependency>
  </dependencies>
</project>
"""


def _say(message: str) -> None:
    print(f"localcloud: {message}", file=sys.stderr, flush=True)


def ensure_server(server: MavenServer, cache_dir: Path, *, say: Callable[[str], None] = _say) -> Path:
    """The directory holding `server`'s jars (`lib/`), fetched from Maven Central on first use."""
    home = cache_dir / server.name / server.version
    lib = home / "lib"
    if (home / ".complete").is_file():
        return lib
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be fetching the same thing
        if (home / ".complete").is_file():
            return lib
        started = time.monotonic()
        say(f"fetching {server.coordinates} and its dependencies from Maven Central (first run only)...")
        _maven_copy_dependencies(server, cache_dir / "m2", home / "lib.partial", say)
        shutil.rmtree(lib, ignore_errors=True)
        (home / "lib.partial").rename(lib)
        (home / ".complete").write_text(f"{server.coordinates}\n")
        say(f"{server.name} {server.version} ready in {time.monotonic() - started:.1f} s ({lib})")
    return lib


def _maven_copy_dependencies(server: MavenServer, repo: Path, out: Path, say: Callable[[str], None]) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BackendError("the dynamodb-local backend needs Maven to fetch its jars: apt-get install maven")
    shutil.rmtree(out, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="localcloud-mvn-") as tmp:
        pom = Path(tmp) / "pom.xml"
        pom.write_text(_POM.format(**server.__dict__))
        cmd = [
            mvn,
            "-B",
            "-f",
            str(pom),
            f"-Dmaven.repo.local={repo}",
            f"-DoutputDirectory={out}",
            "-DincludeScope=runtime",
            f"{DEPENDENCY_PLUGIN}:copy-dependencies",
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        timer = threading.Timer(FETCH_TIMEOUT_S, proc.kill)
        timer.start()
        tail: list[str] = []
        downloaded = 0
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                tail = [*tail[-30:], line.rstrip()]
                if "Downloaded from" in line:
                    downloaded += 1
                    if downloaded % 25 == 0:
                        say(f"  {server.name}: {downloaded} files downloaded...")
            status = proc.wait()
        finally:
            timer.cancel()
    if status != 0:
        shown = "\n".join(tail)
        raise BackendError(f"fetching {server.coordinates} with Maven failed (status {status}):\n{shown}")
    say(f"  {server.name}: {downloaded} files downloaded, {len(list(out.glob('*.jar')))} jars")


def sqlite_native_dir(lib: Path) -> Path:
    """A directory with `libsqlite4java-<platform>.so`, as DynamoDB Local's sqlite4java looks it up."""
    machine = SQLITE_NATIVE.get(platform.machine().lower())
    if machine is None:
        raise BackendError(f"DynamoDB Local has no sqlite4java native library for {platform.machine()}")
    native = lib.parent / "native"
    target = native / f"libsqlite4java-{machine}.so"
    if not target.is_file():
        candidates = sorted(lib.glob(f"libsqlite4java-{machine}-*.so"))
        if not candidates:
            raise BackendError(f"no libsqlite4java-{machine} native library among {lib}; delete {lib.parent}")
        native.mkdir(exist_ok=True)
        shutil.copyfile(candidates[-1], target)
    return native


LAUNCHER_SOURCE = Path(__file__).parent / "java" / "LoopbackDynamoDbLocal.java"
LAUNCHER_CLASS = "LoopbackDynamoDbLocal"
LOOPBACK = "127.0.0.1"


def loopback_launcher(lib: Path) -> Path:
    """The directory holding the compiled launcher that binds DynamoDB Local to loopback (compiled on first use,
    next to the jars it was compiled against; a changed source compiles anew)."""
    source = LAUNCHER_SOURCE.read_bytes()
    out = lib.parent / f"launcher-{hashlib.sha256(source).hexdigest()[:12]}"
    if (out / f"{LAUNCHER_CLASS}.class").is_file():
        return out
    javac = shutil.which("javac")
    if javac is None:
        raise BackendError(
            "DynamoDB Local listens on every network interface and has no option to bind it to loopback; the "
            "local cloud binds it with a launcher compiled by javac, which is missing: install a JDK "
            "(apt-get install openjdk-17-jdk-headless). Refusing to start a database the LAN could reach."
        )
    with (lib.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / f"{LAUNCHER_CLASS}.class").is_file():
            return out
        staging = Path(tempfile.mkdtemp(prefix="launcher-", dir=lib.parent))
        done = subprocess.run(
            [javac, "-nowarn", "-cp", f"{lib}/*", "-d", str(staging), str(LAUNCHER_SOURCE)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise BackendError(f"could not compile the DynamoDB Local loopback launcher:\n{done.stderr[-2000:]}")
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
    return out


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise BackendError(
            "the dynamodb-local backend needs a JDK 17+ (java, and javac for its loopback launcher): "
            "apt-get install openjdk-17-jdk-headless"
        )
    return found


def elasticmq_config(port: int, region: str, account_id: str) -> str:
    return (
        'include classpath("application.conf")\n'
        f'node-address {{ protocol = http, host = "127.0.0.1", port = {port}, context-path = "" }}\n'
        f'rest-sqs {{ enabled = true, bind-port = {port}, bind-hostname = "127.0.0.1", sqs-limits = strict }}\n'
        "rest-stats { enabled = false }\n"
        "generate-node-address = false\n"
        f'aws {{ region = "{region}", accountId = "{account_id}" }}\n'
        'pekko.loglevel = "INFO"\n'
    )


class DynamoDbLocalBackend(Backend):
    """DynamoDB Local for DynamoDB, ElasticMQ for SQS, moto for the rest; three loopback endpoints."""

    kind: BackendKind = "dynamodb-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dynamodb = ManagedProcess("dynamodb-local", self.state_dir)
        self.elasticmq = ManagedProcess("elasticmq", self.state_dir)
        self.others = MotoBackend(**kwargs)
        self.dynamodb_port: int | None = None
        self.sqs_port: int | None = None

    @property
    def dynamodb_endpoint(self) -> str:
        return loopback_endpoint(self.dynamodb_port, "dynamodb-local")

    @property
    def sqs_endpoint(self) -> str:
        return loopback_endpoint(self.sqs_port, "dynamodb-local")

    def fetch(self) -> None:
        ensure_server(DYNAMODB_LOCAL, self.cache_dir)
        ensure_server(ELASTICMQ, self.cache_dir)

    def start(self) -> str:
        if self.is_running():
            return self.others.endpoint
        ddb_lib = ensure_server(DYNAMODB_LOCAL, self.cache_dir)
        mq_lib = ensure_server(ELASTICMQ, self.cache_dir)
        self.dynamodb_port = free_port()
        self.sqs_port = free_port()
        while self.sqs_port == self.dynamodb_port:
            self.sqs_port = free_port()
        native = sqlite_native_dir(ddb_lib)
        launcher = loopback_launcher(ddb_lib)
        jvm = [
            java(),
            *JVM_OPTIONS,
            f"-Djava.library.path={native}",
            f"-Dlocalcloud.host={LOOPBACK}",
            "-cp",
            f"{ddb_lib}/*{os.pathsep}{launcher}",
        ]
        db_path = os.environ.get(DB_PATH_ENV)
        if db_path:
            Path(db_path).mkdir(parents=True, exist_ok=True)
        storage = ["-dbPath", str(Path(db_path).resolve())] if db_path else ["-inMemory"]
        args = [*storage, "-sharedDb", "-disableTelemetry", "-port", str(self.dynamodb_port)]
        self.dynamodb.start([*jvm, LAUNCHER_CLASS, *args], cwd=self.state_dir)
        config = self.state_dir / "elasticmq.conf"
        config.write_text(elasticmq_config(self.sqs_port, self.region, self.account_id))
        self.elasticmq.start(
            [java(), *JVM_OPTIONS, f"-Dconfig.file={config}", "-cp", f"{mq_lib}/*", ELASTICMQ.main_class],
            cwd=self.state_dir,
        )
        try:
            self.others.start()
            self.wait_ready(time.monotonic() + 60)
        except BackendError:
            self.stop()
            raise
        return self.others.endpoint

    def wait_ready(self, deadline: float) -> None:
        self.dynamodb.wait_http(self.dynamodb_endpoint, deadline)
        self.elasticmq.wait_http(self.sqs_endpoint, deadline)
        self.others.wait_ready(deadline)

    def stop(self) -> None:
        self.dynamodb.stop()
        self.elasticmq.stop()
        self.others.stop()

    def is_running(self) -> bool:
        return self.dynamodb.alive() and self.elasticmq.alive() and self.others.is_running()

    @property
    def endpoint_url(self) -> str | None:
        return self.others.endpoint

    def endpoint_for(self, service: str) -> str | None:
        if service == "dynamodb":
            return self.dynamodb_endpoint
        return self.sqs_endpoint if service == "sqs" else self.others.endpoint

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.others.endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint,
            "AWS_ENDPOINT_URL_SQS": self.sqs_endpoint,
        }

    def queue_url(self, name: str) -> str:
        return f"{self.sqs_endpoint}/{self.account_id}/{name}"
