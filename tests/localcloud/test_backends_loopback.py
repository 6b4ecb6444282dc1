"""Backend servers are reachable from this machine only: DynamoDB Local (which has no host option, so it runs
through a launcher that binds it), ElasticMQ and moto listen on 127.0.0.1, not on every interface.

A LAN neighbour who could reach DynamoDB Local could read password hashes or make themselves admin."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from devkit import paths
from devkit.localcloud.backends import create_backend
from devkit.localcloud.backends.dynamodb_local import DynamoDbLocalBackend
from tests.localcloud.support import ACCOUNT, REGION


def non_loopback_ipv4() -> list[str]:
    """This machine's IPv4 addresses other than 127.0.0.0/8 (`ip -4 addr`, else the default route's source)."""
    found: set[str] = set()
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, timeout=5).stdout
        found |= {line.split()[3].split("/")[0] for line in out.splitlines() if " inet " in line}
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP connect sends nothing: it only picks the source address
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(a for a in found if not a.startswith("127.") and a != "0.0.0.0")


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port` (/proc/net/tcp and tcp6, hex as the kernel writes it)."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                out.add(address)
    return out


LOOPBACK_HEX = {
    "0100007F",  # 127.0.0.1
    "0000000000000000FFFF00000100007F",  # ::ffff:127.0.0.1
    "00000000000000000000000001000000",  # ::1
}


def refused(address: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        try:
            sock.connect((address, port))
        except OSError:
            return True
    return False


@pytest.mark.slow
def test_dynamodb_local_elasticmq_and_moto_listen_on_loopback_only(tmp_path: Path) -> None:
    backend = create_backend(
        "dynamodb-local", state_dir=tmp_path / "state", cache_dir=paths.cache_dir(), region=REGION, account_id=ACCOUNT
    )
    assert isinstance(backend, DynamoDbLocalBackend)
    backend.start()
    try:
        ports = {"DynamoDB Local": backend.dynamodb_port, "ElasticMQ": backend.sqs_port, "moto": backend.others.port}
        for name, port in ports.items():
            assert port is not None
            bound = listening_addresses(port)
            assert bound and bound <= LOOPBACK_HEX, f"{name} listens on {bound}, not only on loopback"
            assert not refused("127.0.0.1", port), f"{name} answers on loopback"
        others = non_loopback_ipv4()
        # When the machine has no other address, the listening sockets above are the whole check (said here).
        print(f"non-loopback addresses tried: {others or 'none on this machine'}")
        for address in others:
            for name, port in ports.items():
                assert refused(address, port), f"{name} is reachable on {address}:{port}"
    finally:
        backend.stop()
