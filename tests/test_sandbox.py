"""The sandbox's namespaces, seen from outside (README: SECURITY).

Learners' code that computes the right answer and also tries to get out
(tests/hostile/ex01_escapes_network.py, ex02_escapes_files.py,
ex03_escapes_ipc.py, ex04_signals_grader.py): to connect to listeners of the
test's (TCP on 127.0.0.1, a DNS query over UDP, an abstract Unix socket), to
resolve host names, to leave files in folders anyone may write, in the real home
folder, beside the submission, in site-packages and in the grader package, to
write into a System V segment of the test's, and to kill a process of the user
running grade. The installed ``grade`` grades them as root and again as the
ordinary user ``nobody`` (tests/ordinary_user.py): every exercise keeps full
marks (an attack that gets through makes its function raise), and the test
checks from outside that nothing got through and that the grader lived.

Without user namespaces (``GRADE_SANDBOX_SKIP=user``, as on a kernel that
refuses them) an ordinary user's grade falls back to the other protections:
the submission is still graded, the report names what is missing, and the same
attempts do get through, which also shows that these checks would see them.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import socket
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ALL_POINTS, SOLUTIONS, grade_command
from ordinary_user import OrdinaryUser, base_folder, build

import grader
from grader import registry
from grader.messages import listing, text
from grader.runner import mounts, namespaces
from grader.runner.namespaces import NAMESPACED, PROTECTIONS, Isolation, requested_skips

HOSTILE = Path(__file__).parent / "hostile"
FILES = {ex.file[:4]: ex for ex in registry.EXERCISES}
DEVICE = os.environ.get("HOSTILE_DEVICE", "cpu")  # scripts/gpu-check.sh: cuda
TIMEOUT = "3" if DEVICE == "cpu" else "10"
MEMORY = "256" if DEVICE == "cpu" else "1024"
BOUND = 90  # seconds a grade run may take
ROOT = os.getuid() == 0
root_only = pytest.mark.skipif(not ROOT, reason="switching to the user nobody needs root")
ESCAPES = {
    "ex01_escapes_network.py": "scalar_grad",
    "ex02_escapes_files.py": "vector_grad",
    "ex03_escapes_ipc.py": "partial_grads",
    "ex04_signals_grader.py": "evaluate_without_grad",
}
HARMLESS = [a for a in ESCAPES if a != "ex04_signals_grader.py"]  # kill -1 as nobody ends all
# A folder anyone may write outside the private temporary folders: the sandbox's
# read-only mounts, not its private /tmp, must stop the write there.
OUTSIDE_TEMP = next((p for p in ("/var/lib", "/srv", "/opt") if os.path.isdir(p)), "/")
_IPC_CREAT, _IPC_EXCL, _IPC_RMID = 0o1000, 0o2000, 0

_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p


# -- what an attack must not reach ---------------------------------------------------


class Bait:
    """Listeners, folders, a System V segment and a process of the grading user;
    ``seen`` lists whatever an attack reached."""

    def __init__(self, user: OrdinaryUser | None) -> None:
        self.user = user
        self.token = secrets.token_hex(6)
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.abstract = "\0grader-test-" + self.token
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.abstract)
        self.unix.listen(16)
        for sock in (self.tcp, self.udp, self.unix):
            sock.setblocking(False)
        self.world = [
            Path(tempfile.mkdtemp(prefix="sandbox-world-")),
            Path(tempfile.mkdtemp(prefix="sandbox-world-", dir=OUTSIDE_TEMP)),
        ]
        for folder in self.world:
            folder.chmod(0o777)
        self.home = user.home if user else Path(tempfile.mkdtemp(prefix="sandbox-home-"))
        self.key = secrets.randbelow(1 << 29) + 1000
        self.segment = _libc.shmget(self.key, 4096, _IPC_CREAT | _IPC_EXCL | 0o666)
        assert self.segment >= 0, os.strerror(ctypes.get_errno())
        sleep = ["sleep", "300"]
        self.bystander = subprocess.Popen(
            user.command(sleep) if user else sleep,
            env=user.environment() if user else None,
        )
        self.places: list[Path] = [*self.world, self.home, Path("/")]

    def targets(self) -> dict[str, object]:
        return {
            "token": self.token,
            "tcp": self.tcp.getsockname()[1],
            "udp": self.udp.getsockname()[1],
            "abstract": self.abstract,
            "world": [str(p) for p in self.world],
            "home": str(self.home),
            "shm_key": self.key,
            "bystander": self.bystander.pid,
        }

    def seen(self) -> list[str]:
        """Everything an attack reached, from outside."""
        found = []
        for name, listener in (("tcp", self.tcp), ("abstract socket", self.unix)):
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    break
                conn.close()
                found.append(f"{name} connection")
        while True:
            try:
                self.udp.recvfrom(4096)
            except OSError:
                break
            found.append("udp datagram")
        name = f"escaped-{self.token}"
        found += [f"file {p / name}" for p in self.places if (p / name).exists()]
        if Path("/dev/shm", name).exists():
            found.append(f"file /dev/shm/{name}")
        address = _libc.shmat(self.segment, None, 0)
        try:
            if ctypes.string_at(address, 4) != b"\0\0\0\0":
                found.append("write into the test's segment")
        finally:
            _libc.shmdt(ctypes.c_void_p(address))
        if self._segment_of(self.key + 1) >= 0:
            found.append("a segment on this machine")
        if self.bystander.poll() is not None:
            found.append("the bystander process was killed")
        return found

    @staticmethod
    def _segment_of(key: int) -> int:
        with open("/proc/sysvipc/shm") as fh:
            header, *rows = fh.read().splitlines()
        for row in rows:
            fields = dict(zip(header.split(), row.split(), strict=False))
            if int(fields["key"]) == key:
                return int(fields["shmid"])
        return -1

    def close(self) -> None:
        self.bystander.kill()
        self.bystander.wait()
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()
        name = f"escaped-{self.token}"
        for place in [*self.places, Path("/dev/shm")]:
            (place / name).unlink(missing_ok=True)
        for folder in self.world:
            shutil.rmtree(folder, ignore_errors=True)
        if self.user is None:
            shutil.rmtree(self.home, ignore_errors=True)
        for segment in (self.segment, self._segment_of(self.key + 1)):
            if segment >= 0:
                _libc.shmctl(segment, _IPC_RMID, None)


# -- fixtures and runs ---------------------------------------------------------------


@pytest.fixture(scope="session")
def nobody() -> Iterator[OrdinaryUser]:
    """``nobody`` with a virtual environment of its own holding the installed grader."""
    if not ROOT:
        pytest.skip("switching to the user nobody needs root")
    base = base_folder()
    try:
        yield build(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["root", "nobody"])
def user(request: pytest.FixtureRequest) -> OrdinaryUser | None:
    """Who runs grade: root (None) or the ordinary user nobody."""
    if not ROOT:
        pytest.skip("the root run and switching to nobody need root")
    return request.getfixturevalue("nobody") if request.param == "nobody" else None


@pytest.fixture
def base(user: OrdinaryUser | None) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def bait(user: OrdinaryUser | None) -> Iterator[Bait]:
    found = Bait(user)
    yield found
    found.close()


def build_submission(base: Path, attacks: list[str], bait: Bait, user: OrdinaryUser | None) -> Path:
    """The reference solutions with attacks in place, told where the bait is; all of
    it the grading user's own, so that only the sandbox keeps it unchanged."""
    submission = base / "submission"
    shutil.copytree(SOLUTIONS, submission)
    for attack in attacks:
        code = (HOSTILE / attack).read_text()
        told = code.replace("TARGETS: dict = {}", f"TARGETS: dict = {json.dumps(bait.targets())}")
        assert told != code, attack
        (submission / FILES[attack[:4]].file).write_text(told)
    if user:
        user.give(base)
    bait.places += [submission, base, *installed(user)]
    return submission


def installed(user: OrdinaryUser | None) -> list[Path]:
    """The grading user's site-packages and grader package."""
    if user:
        return [user.site_packages, user.package]
    return [Path(sysconfig.get_paths()["purelib"]), Path(grader.__file__).parent]


def run_grade(
    user: OrdinaryUser | None, base: Path, *args: str, home: Path, skip: str = ""
) -> subprocess.CompletedProcess:
    env = {namespaces.SKIP_ENV: skip} if skip else {}
    try:
        if user:
            return user.run([str(user.grade), *args], cwd=base, timeout=BOUND, **env)
        environ = {k: v for k, v in os.environ.items() if k != namespaces.SKIP_ENV}
        return subprocess.run(
            [grade_command(), *args],
            capture_output=True,
            text=True,
            cwd=base,
            env={**environ, "HOME": str(home), **env},
            timeout=BOUND,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"grade did not finish within {BOUND} s")


def grade_report(
    user: OrdinaryUser | None, base: Path, submission: Path, bait: Bait, skip: str = ""
) -> dict:
    proc = run_grade(
        user, base, str(submission), "--format", "json", "--timeout", TIMEOUT,
        "--memory", MEMORY, "--device", DEVICE, home=bait.home, skip=skip,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)  # one JSON object: grade lived to print it


def entries(report: dict) -> dict[str, dict]:
    return {e["name"]: e for e in report["exercises"]}


# -- the runs ------------------------------------------------------------------------


def test_nothing_gets_out(user: OrdinaryUser | None, base: Path, bait: Bait) -> None:
    """Every attempt fails, every exercise keeps its points, the grader lives."""
    submission = build_submission(base, list(ESCAPES), bait, user)
    report = grade_report(user, base, submission, bait)
    for entry in report["exercises"]:
        assert entry["passed"] and entry["score"] == entry["max_score"], entry["feedback"]
    assert report["score"] == report["max_score"] == ALL_POINTS  # every unit's solutions
    assert bait.seen() == []
    expected = list(PROTECTIONS) if user is None else list(NAMESPACED)
    runs_as = "root" if user is None else "user"
    assert report["sandbox"] == {"runs_as": runs_as, "holds": expected, "missing": []}


@root_only
def test_an_ordinary_user_without_user_namespaces_falls_back(nobody: OrdinaryUser) -> None:
    """Graded all the same; the report names every missing protection, and the
    attempts get through (the listeners, the files and the segment show it)."""
    base = Path(tempfile.mkdtemp(prefix="hostile-"))
    bait = Bait(nobody)
    try:
        submission = build_submission(base, HARMLESS, bait, nobody)
        report = grade_report(nobody, base, submission, bait, skip="user")
        assert report["sandbox"] == {"runs_as": "user", "holds": [], "missing": list(NAMESPACED)}
        results = entries(report)
        for attack, name in ESCAPES.items():
            if attack in HARMLESS:  # host name look-ups may also outlast the time limit
                assert results[name]["score"] == 0, results[name]
                said = results[name]["feedback"]
                assert "escaped" in said or results[name]["status"] == "timeout", results[name]
            else:
                assert results[name]["score"] == 10.0, results[name]
        seen = bait.seen()
        for reached in ("tcp connection", "udp datagram", "abstract socket connection"):
            assert reached in seen, seen
        assert f"file {bait.world[1] / ('escaped-' + bait.token)}" in seen, seen
        assert f"file {nobody.site_packages / ('escaped-' + bait.token)}" in seen, seen
        assert "write into the test's segment" in seen, seen
        text_report = run_grade(
            nobody, base, str(submission), "--only", "scalar_grad", home=bait.home, skip="user"
        )
        assert text_report.returncode == 0, text_report.stderr
        names = listing([text(f"sandbox.{p}") for p in NAMESPACED], "en")
        assert text_report.stdout.splitlines()[-1] == text("report.sandbox_missing", missing=names)
    finally:
        bait.close()
        shutil.rmtree(base, ignore_errors=True)


@root_only
def test_root_without_namespaces_still_has_a_user_id_of_its_own() -> None:
    """As root without namespaces (as in a container that refuses them), the own
    user id still protects the grader's files and processes; the network, folders
    anyone may write and System V IPC are open, and the report says so."""
    base = Path(tempfile.mkdtemp(prefix="hostile-"))
    bait = Bait(None)
    try:
        submission = build_submission(base, list(ESCAPES), bait, None)
        report = grade_report(None, base, submission, bait, skip="all")
        missing = list(NAMESPACED)
        assert report["sandbox"] == {"runs_as": "root", "holds": ["uid"], "missing": missing}
        results = entries(report)
        for name in ESCAPES.values():
            assert results[name]["score"] == 0, results[name]
        seen = bait.seen()
        assert "tcp connection" in seen and "write into the test's segment" in seen, seen
        assert f"file {bait.world[1] / ('escaped-' + bait.token)}" in seen, seen
        protected = [bait.home, submission, *installed(None)]
        assert not [s for s in seen if "bystander" in s or any(str(p) in s for p in protected)]
    finally:
        bait.close()
        shutil.rmtree(base, ignore_errors=True)


# -- grade doctor ------------------------------------------------------------------------


def doctor(user: OrdinaryUser | None, *args: str, skip: str = "") -> subprocess.CompletedProcess:
    home = user.home if user else Path.home()
    proc = run_grade(user, Path("/"), "doctor", *args, home=home, skip=skip)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_doctor_finds_every_protection(user: OrdinaryUser | None) -> None:
    found = json.loads(doctor(user, "--format", "json").stdout)
    checks = {c["key"]: c for c in found["isolation"]}
    for key in ("network", "abstract", "filesystem", "processes", "ipc"):
        assert checks[key]["holds"] is True, checks[key]
    assert checks["uid"]["holds"] is (True if user is None else None)
    if user:
        assert checks["userns"]["holds"] is True
    assert all(limit["holds"] for limit in found["limits"]), found["limits"]
    assert found["cuda"]["holds"] in (None, True), found["cuda"]
    assert found["sandbox"]["missing"] == []
    said = doctor(user, "--lang", "zh").stdout
    assert text("doctor.summary.complete", "zh") in said
    assert text("doctor.label.network", "zh") in said


@root_only
def test_doctor_names_what_is_missing_without_user_namespaces(nobody: OrdinaryUser) -> None:
    found = json.loads(doctor(nobody, "--format", "json", skip="user").stdout)
    checks = {c["key"]: c for c in found["isolation"]}
    for key in ("userns", "network", "abstract", "filesystem", "processes", "ipc"):
        assert checks[key]["holds"] is False, checks[key]
        assert namespaces.SKIP_ENV in checks[key]["why"], checks[key]
    assert found["sandbox"]["missing"] == list(NAMESPACED)
    said = doctor(nobody, skip="user").stdout
    assert text("doctor.summary.missing", count=4) in said
    assert text("doctor.network.missing") in said


@pytest.mark.cuda
@pytest.mark.skipif(DEVICE != "cuda", reason="needs HOSTILE_DEVICE=cuda and a CUDA device")
def test_cuda_works_inside_the_sandbox(user: OrdinaryUser | None, base: Path) -> None:
    """The reference solutions on the GPU, in every namespace: full marks; the
    doctor's probe computes on the GPU from inside."""
    home = user.home if user else Path.home()
    proc = run_grade(user, base, str(SOLUTIONS), "--device", "cuda", "--format", "json", home=home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["score"] == ALL_POINTS and report["sandbox"]["missing"] == [], report
    found = json.loads(doctor(user, "--format", "json").stdout)
    assert found["cuda"]["holds"] is True, found["cuda"]


# -- pieces --------------------------------------------------------------------------------


def test_skips_are_read_from_the_environment() -> None:
    assert requested_skips({}) == set()
    assert requested_skips({namespaces.SKIP_ENV: "user, Network"}) == {"user", "network"}
    assert requested_skips({namespaces.SKIP_ENV: "all"}) == {"user", *NAMESPACED}
    assert requested_skips({namespaces.SKIP_ENV: "nonsense"}) == set()


def test_what_is_missing_depends_on_who_runs_grade() -> None:
    root = Isolation(root=True, network=True, filesystem=True, processes=True, ipc=True)
    assert root.missing() == [] and root.holds() == list(PROTECTIONS)
    user = Isolation(root=False, user_namespace=True, network=True, filesystem=True)
    assert user.missing() == ["processes", "ipc"]  # a user id of its own needs root
    assert Isolation.from_dict(user.as_dict()) == user


def test_every_mount_read_only_without_mount_setattr(tmp_path: Path) -> None:
    """The fallback for kernels before 5.12: remount each mount point read-only,
    keeping its flags (in a user namespace the kernel refuses to drop them)."""
    probe = tmp_path / "probe"
    probe.write_text("")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        try:
            if not ROOT:
                namespaces._enter_user_namespace()
            namespaces.unshare(namespaces.CLONE_NEWNS)
            mounts.mount(None, "/", None, mounts.MS_REC | mounts.MS_PRIVATE)
            mounts.readonly_everything(use_setattr=False)
            try:
                probe.write_text("changed")
                said = "written"
            except OSError as exc:
                said = os.strerror(exc.errno or 0)
        except BaseException as exc:
            said = f"set-up failed: {exc}"
        os.write(write, said.encode())
        os._exit(0)
    os.close(write)
    said = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)
    if said.startswith("set-up failed") and not ROOT:
        pytest.skip(f"no user namespace here: {said}")
    assert said == os.strerror(30), said  # EROFS
    assert probe.read_text() == ""


def test_the_temporary_folders_themselves_are_never_bound_back() -> None:
    """Only folders below /tmp (a venv, a checkout) are bound back over the private
    tmpfs; /tmp itself never is, or the machine's /tmp would cover the private one."""
    assert mounts.hidden("/tmp/venv/lib") and mounts.hidden("/var/tmp/x")
    assert not mounts.hidden("/tmp") and not mounts.hidden("/tmp/")
    assert not mounts.hidden("/var/tmp")
    assert not mounts.hidden("/usr/lib")


def test_a_grader_started_from_a_script_in_tmp_keeps_tmp_private(tmp_path: Path) -> None:
    """A script run from /tmp puts /tmp itself on sys.path: the learner's /tmp is
    still the private, writable one (it was the machine's, bound back read-only)."""
    script = Path(tempfile.gettempdir()) / f"grade-probe-{secrets.token_hex(4)}.py"
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "ex08_detach.py").write_text(
        "import os\n"
        "def detach_alias(x):\n"
        "    with open(os.path.join('/tmp', 'probe-' + str(os.getpid())), 'w') as fh:\n"
        "        fh.write('x')\n"
        "    return x.detach()\n"
    )
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from grader import registry\n"
        "from grader.grading import Settings, grade\n"
        "from grader.submission import load_folder\n"
        "ex = registry.select(('detach_alias',))\n"
        f"(result,) = grade([load_folder(Path({str(folder)!r}), ex)], ex, Settings(seed=2))\n"
        "print(result.score, Path(__file__).parent.as_posix() in sys.path)\n"
    )
    try:
        proc = subprocess.run(
            [str(Path(grade_command()).parent / "python"), str(script)],
            capture_output=True, text=True, timeout=BOUND,
        )  # fmt: skip
    finally:
        script.unlink()
    assert proc.returncode == 0, proc.stderr[-2000:]
    score, on_path = proc.stdout.split()
    assert on_path == "True"  # the case that used to cover the private /tmp
    assert float(score) == 10.0
