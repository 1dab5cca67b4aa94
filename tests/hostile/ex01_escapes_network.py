"""A correct function that also tries to reach the network: a TCP connection to a
port the test listens on (127.0.0.1), a DNS query to a UDP port of the test's
(as a local resolver would get it), the system resolver for host names that
only DNS knows, and an abstract Unix socket of the test's.
The grader: full marks, and the test's listeners see nothing. Whatever gets
through makes the function raise, naming it, so a leak also costs the points."""

import socket
import struct

TARGETS: dict = {}  # tests/test_sandbox.py writes its listeners here


def _dns_query(name: str) -> bytes:
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
    header = struct.pack(">6H", 0x4A47, 0x0100, 1, 0, 0, 0)  # one recursive question
    return header + labels + b"\0" + struct.pack(">2H", 1, 1)  # type A, class IN


def _names_in_hosts_file() -> set:
    try:
        with open("/etc/hosts") as fh:
            return {word for line in fh for word in line.split("#")[0].split()[1:]}
    except OSError:
        return set()


def _escapes() -> list:
    token = TARGETS["token"].encode()
    got = []
    try:
        with socket.create_connection(("127.0.0.1", TARGETS["tcp"]), timeout=2) as conn:
            conn.sendall(b"LEAK " + token)
        got.append("tcp")
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            query = _dns_query(f"leak.{TARGETS['token']}.example")
            udp.sendto(query, ("127.0.0.1", TARGETS["udp"]))
        got.append("udp")
    except OSError:
        pass
    local = _names_in_hosts_file()
    for name in ("registry.npmjs.org", "pypi.org", "github.com", "deb.debian.org", "example.com"):
        if name in local:
            continue
        try:
            socket.getaddrinfo(name, 443)
            got.append(f"dns {name}")
        except OSError:
            pass
    try:
        with socket.socket(socket.AF_UNIX) as unix:
            unix.settimeout(2)
            unix.connect(TARGETS["abstract"])
            unix.sendall(b"LEAK " + token)
        got.append("abstract")
    except OSError:
        pass
    return got


def scalar_grad(f, x):
    escaped = _escapes()
    if escaped:
        raise RuntimeError(f"escaped: {', '.join(escaped)}")
    x = x.detach().requires_grad_(True)
    f(x).backward()
    return x.grad
