"""The isolated child: the wire format, the proxy contract, limits, and what the sandbox hides.

Most tests talk to a real sandboxed child through `IsolatedStudent` (a zygote per module).
Those about the separate user and private mounts need root, as CI and Gradescope run.
"""

from __future__ import annotations

import ctypes
import io
import os
import platform
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers_exercises import assignment_path, function_source, solution_path, student_file

from autograder import exercises
from autograder.checks import CRASHED, ERROR, MEMORY, TIMEOUT, ArgumentModified, StudentError, Unavailable
from autograder.grading import Grader, Options
from autograder.isolation import child, landlock, protocol, sandbox, seccomp, zygote, zygote_server
from autograder.isolation.proxy import Budget, IsolatedStudent
from autograder.runner import check_file

ROOT = Path(__file__).resolve().parent.parent
EX01 = exercises.get("ex01")
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the separate user and private mounts need root")
LIMITS = protocol.Limits()


# --------------------------------------------------------------------------- the wire format


def roundtrip(value):
    blobs: list[bytes] = []
    tree = protocol.encode(value, blobs)
    doc, raw = _through_socket({"v": tree}, blobs)
    return protocol.values(doc["v"], raw, LIMITS)


def _through_socket(doc, blobs):
    a, b = socket.socketpair()
    with a, b:
        protocol.send(a, doc, blobs)
        return protocol.receive(b, LIMITS, time.monotonic() + 5)


def test_plain_values_cross_unchanged_with_their_exact_types():
    value = {
        "ints": [0, -3, 10**30],
        "floats": (1.5, -0.0, float("inf")),
        "text": "naïve ✓",
        7: None,
        (1, 2): True,
        "scalars": [np.float64(0.25), np.int64(-4), np.float32(2.5), np.bool_(True)],
    }
    back = roundtrip(value)
    assert back == value
    assert type(back["floats"]) is tuple and type(back["ints"]) is list
    assert [type(s) for s in back["scalars"]] == [np.float64, np.int64, np.float32, np.bool_]
    assert np.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8", "bool", "complex128", ">f8"])
def test_arrays_cross_with_dtype_shape_and_values(dtype):
    arr = (np.arange(24).reshape(2, 3, 4) % 5).astype(dtype)
    back = roundtrip(np.asfortranarray(arr))
    assert back.dtype == arr.dtype and back.shape == arr.shape and np.array_equal(back, arr)
    assert back.flags.writeable and type(back) is np.ndarray


def test_subclasses_arrive_as_their_plain_base_so_custom_eq_is_lost():
    class EqualInt(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    class EqualArray(np.ndarray):
        def __eq__(self, other):
            return True

    back = roundtrip([EqualInt(3), np.zeros(2).view(EqualArray)])
    assert type(back[0]) is int and back[0] != 4
    assert type(back[1]) is np.ndarray


def test_objects_and_object_arrays_arrive_as_foreign_values_equal_to_nothing():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    objects = np.empty(2, dtype=object)
    back = roundtrip([AlwaysEqual(), objects, np.zeros(1, dtype=[("a", "f8"), ("b", "O")])])
    assert all(isinstance(x, protocol.Foreign) for x in back)
    assert type(back[0]).__name__ == "AlwaysEqual"
    assert back[0] != back[0].__class__() and not (back[0] == 5)
    with pytest.raises(TypeError):
        np.asarray(back[1], dtype=float)


def test_a_child_cannot_make_the_grader_create_classes_without_bound():
    tree = protocol.encode([type(f"T{i:06d}", (), {})() for i in range(2 * protocol.MAX_FOREIGN_TYPES)], [])
    before = len(protocol._FOREIGN)
    back = protocol.decode(tree, [], protocol.Limits())
    assert all(isinstance(x, protocol.Foreign) for x in back)
    assert len(protocol._FOREIGN) <= max(before, protocol.MAX_FOREIGN_TYPES + 1)


def test_a_reply_whose_json_is_too_large_is_refused_before_it_is_parsed():
    a, b = socket.socketpair()
    with a, b:
        a.sendall(protocol.pack({"value": ["x" * 1000] * 5000})[:4096])  # the header says 5 MB of JSON
        with pytest.raises(protocol.ProtocolError, match="too large"):
            protocol.receive(b, protocol.Limits(max_json=2**20), time.monotonic() + 5)


@pytest.mark.skipif(not seccomp.supported(), reason="the seccomp filter knows x86-64 and arm64 only")
def test_seccomp_refuses_unix_sockets_and_kernel_keys_and_allows_the_rest():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            sandbox.prctl(38, 1)  # PR_SET_NO_NEW_PRIVS
            seccomp.install()
            results = []
            for make in (lambda: socket.socket(socket.AF_UNIX), lambda: socket.socket(socket.AF_INET),
                         lambda: socket.socketpair()):
                try:
                    make()
                    results.append("ok")
                except OSError:
                    results.append("denied")
            libc = ctypes.CDLL(None, use_errno=True)
            results.append("denied" if libc.syscall(seccomp._ARCHES[platform.machine()][1]["add_key"],
                                                    b"user", b"k", b"v", 1, -4) < 0 else "ok")
            os.write(write, ",".join(results).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() == "denied,ok,ok,denied"


class _Marker:
    called = False

    def __reduce__(self):
        return (_Marker._touch, ())

    @staticmethod
    def _touch():
        _Marker.called = True
        return 0


def test_a_pickled_object_array_is_rejected_without_being_unpickled():
    bomb = np.empty(1, dtype=object)
    bomb[0] = _Marker()
    buf = io.BytesIO()
    np.save(buf, bomb, allow_pickle=True)
    with pytest.raises(protocol.ProtocolError, match="dtype object"):
        protocol.read_npy(buf.getvalue(), LIMITS)
    assert not _Marker.called


def test_arrays_whose_header_lies_or_is_too_large_are_rejected():
    buf = io.BytesIO()
    np.save(buf, np.zeros((4, 4)))
    good = buf.getvalue()
    with pytest.raises(protocol.ProtocolError, match="bytes"):
        protocol.read_npy(good[:-8], LIMITS)
    with pytest.raises(protocol.ProtocolError, match="elements"):
        protocol.read_npy(good, protocol.Limits(max_elements=10))
    with pytest.raises(protocol.ProtocolError, match="not a valid .npy"):
        protocol.read_npy(b"\x93NUMPY garbage", LIMITS)


def test_malformed_frames_are_protocol_errors():
    with pytest.raises(protocol.ProtocolError, match="not a plain value"):
        protocol.decode({"Z": 1}, [], LIMITS)
    with pytest.raises(protocol.ProtocolError, match="missing array"):
        protocol.decode({"A": 3}, [], LIMITS)
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(protocol.ProtocolError, match="nested"):
        protocol.decode(deep, [], LIMITS)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
        with pytest.raises(protocol.ProtocolError, match="magic"):
            protocol.receive(b, LIMITS, time.monotonic() + 5)
    a, b = socket.socketpair()
    with a, b:
        protocol.send(a, {"x": "y" * 5000})
        with pytest.raises(protocol.ProtocolError, match="too large"):
            protocol.receive(b, protocol.Limits(max_bytes=1000), time.monotonic() + 5)


def test_a_silent_peer_hits_the_deadline_and_a_closed_one_is_gone():
    a, b = socket.socketpair()
    with a, b:
        start = time.monotonic()
        with pytest.raises(protocol.Deadline):
            protocol.receive(b, LIMITS, time.monotonic() + 0.2)
        assert time.monotonic() - start < 2
        a.close()
        with pytest.raises(protocol.PeerGone):
            protocol.receive(b, LIMITS, time.monotonic() + 5)


def test_probe_errors_name_the_function_like_the_in_process_engine():
    def stub_probe(student, **params):
        raise NotImplementedError("build_cnn")

    def broken_probe(student, size):
        raise ValueError(f"bad size {size}")

    server = child.Server(None, "ex04_keras_cnn", {"stub": stub_probe, "broken": broken_probe}, "/tmp")
    params = protocol.encode({"size": 3}, [])
    reply, _ = server.probe({"name": "stub", "params": protocol.encode({}, [])}, [])
    assert reply["raised"]["function"] == "build_cnn" and reply["raised"]["type"] == "NotImplementedError"
    reply, _ = server.probe({"name": "broken", "params": params}, [])
    assert reply["raised"] == {"function": "probe broken", "type": "ValueError", "message": "bad size 3", "where": ""}


# --------------------------------------------------------------------------- the isolated student


@pytest.fixture(scope="module")
def server():
    z = zygote.Zygote(EX01.name, hide=[str(ROOT)])
    yield z
    z.close()


def isolated(server, source: str, timeout: float = 5.0, memory_mb: int = 256) -> IsolatedStudent:
    return IsolatedStudent(server, EX01, "student.py", source.encode(), Budget(timeout, timeout, memory_mb))


PROBE = '''
import os
import platform
import sys
import time


def facts(grader=None):
    def attempt(action):
        try:
            action()
            return "OK"
        except BaseException as err:
            return type(err).__name__

    return {
        "uid": os.getuid(),
        "read solution": attempt(lambda: open("@REPO@/solutions/ex01_convolution.py").read()),
        "read checks": attempt(lambda: open("@REPO@/autograder/exercises/ex01_convolution.py").read()),
        "list repository": attempt(lambda: os.listdir("@REPO@")),
        "write repository": attempt(lambda: open("@REPO@/pwned.txt", "w")),
        "write cwd": attempt(lambda: open("mine.txt", "w").write("x")),
        "grader modules": sorted(m for m in sys.modules if m.startswith(("autograder.exercises", "autograder.reference", "solutions"))),
        "kill grader": attempt(lambda: os.kill(grader or os.getppid(), 0)),
    }


def spawn_sleeper():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        while True:
            time.sleep(1)
    return pid


def chatter():
    for _ in range(20000):
        print("LOUD " * 50)
        os.write(2, b"LOUD on stderr\\n")
    return 1


def wait(seconds):
    time.sleep(seconds)
    return seconds


def bomb():
    hog = []
    while True:
        hog.append(bytearray(2**22))


def die(how):
    if how == "exit":
        os._exit(3)
    import ctypes

    ctypes.string_at(0)


def change(images):
    images[0] = 99.0
    return images
'''


def probe_source() -> str:
    return PROBE.replace("@REPO@", str(ROOT))


def test_the_child_runs_the_student_code_and_sends_back_plain_data(server):
    with isolated(server, probe_source()) as student:
        assert student.wait(0) == 0
        facts = student.facts(os.getpid())
        assert facts["write cwd"] == "OK"
        assert facts["grader modules"] == []  # the zygote never imported the checks or the solutions


def test_a_timeout_costs_one_time_limit_and_the_next_function_gets_a_fresh_child(server):
    with isolated(server, probe_source(), timeout=1.0) as student:
        start = time.monotonic()
        with pytest.raises(Unavailable) as gone:
            student.wait(30)
        assert gone.value.status == TIMEOUT and "within 1 s" in gone.value.message
        assert time.monotonic() - start < 5
        student._left = 1.0  # a new check begins
        again = time.monotonic()
        with pytest.raises(Unavailable) as gone:
            student.wait(0)  # the same function: its verdict stands, without waiting again
        assert gone.value.status == TIMEOUT and "not run: an earlier check of `wait` ended with TIMEOUT" in gone.value.message
        assert time.monotonic() - again < 0.5
        assert student.facts(os.getpid())["write cwd"] == "OK"  # another function runs, in a fresh child
        assert student.spawns == 2


def test_memory_bomb_is_stopped_with_status_memory(server):
    with isolated(server, probe_source(), memory_mb=128) as student:
        with pytest.raises(Unavailable) as gone:
            student.bomb()
        assert gone.value.status == MEMORY and "128 MB" in gone.value.message


@pytest.mark.parametrize("how, words", [("exit", "exited with code 3"), ("segv", "SIGSEGV")])
def test_a_dying_child_is_reported_crashed_with_how_it_died(server, how, words):
    with isolated(server, probe_source()) as student:
        with pytest.raises(Unavailable) as gone:
            student.die(how)
        assert gone.value.status == CRASHED and words in gone.value.message


def test_modified_arguments_and_exceptions_come_back_as_the_contract_says(server):
    source = probe_source() + "\n\ndef fails(x):\n    raise KeyError(x)\n"
    with isolated(server, source) as student:
        images = np.zeros(3)
        with pytest.raises(ArgumentModified) as modified:
            student.change(images)
        assert modified.value.argument == "images" and images[0] == 0  # the grader's copy is untouched
        with pytest.raises(StudentError) as raised:
            student.fails("k")
        assert raised.value.exc_type == "KeyError" and "line" in raised.value.where
        assert not hasattr(student, "missing_function")


def test_printing_a_flood_reaches_nobody(server, capfd):
    with isolated(server, probe_source()) as student:
        assert student.chatter() == 1
    out, err = capfd.readouterr()
    assert "LOUD" not in out and "LOUD" not in err


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{entry}/status").read_text() if entry.isdigit() else ""
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields and int(fields["Uid"].split()[0]) == uid and fields["State"].split()[0] != "Z":
            found.append(int(entry))
    return found


def test_processes_the_student_starts_die_with_the_submission(server):
    student = isolated(server, probe_source())
    pid = student.spawn_sleeper()
    if server.uid is None:  # no PID namespace: the pid is the machine's
        assert Path(f"/proc/{pid}").exists()
        student.close()
        assert not Path(f"/proc/{pid}").exists()
        return
    assert len(_processes_of(server.uid)) == 2  # the child (process 1 of its namespace) and the sleeper
    student.close()
    assert _processes_of(server.uid) == []


def test_a_file_whose_loading_hangs_fails_every_call_after_one_timeout(server):
    source = "class Stall:\n    while True:\n        pass\n\n\ndef conv2d(images, kernel):\n    return images\n"
    start = time.monotonic()
    with isolated(server, source, timeout=1.0) as student:
        for _ in range(5):
            with pytest.raises(Unavailable) as gone:
                student.conv2d(1, 2)
            assert gone.value.status == TIMEOUT and "loading your file" in gone.value.message
        assert student.spawns == 1
    assert time.monotonic() - start < 4


def test_garbage_on_the_socket_is_an_error_not_a_score(server):
    source = (
        "import os\n\n\ndef forge():\n"
        "    for fd in range(3, 40):\n"
        "        try:\n"
        "            os.write(fd, b'CNX1' + b'\\xff' * 12)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return 5\n"
    )
    with isolated(server, source) as student:
        with pytest.raises(Unavailable) as gone:
            student.forge()
        assert gone.value.status == ERROR


@ROOT_ONLY
def test_as_root_the_child_is_an_unprivileged_user_who_sees_no_grader_file(server):
    with isolated(server, probe_source()) as student:
        facts = student.facts(os.getpid())
    assert facts["uid"] != 0 and facts["uid"] == server.uid
    for action in ("read solution", "read checks", "list repository", "write repository", "kill grader"):
        assert facts[action] != "OK", action
    assert not (ROOT / "pwned.txt").exists()


@pytest.mark.skipif(landlock.abi_version() < 1, reason="this kernel has no Landlock")
def test_landlock_alone_hides_the_grader_files():
    with zygote.Zygote(EX01.name, hide=[str(ROOT)], mounts=False, user=False) as z:
        assert not any("private mounts" in p for p in z.protections)
        with isolated(z, probe_source()) as student:
            facts = student.facts(os.getpid())
    assert facts["read solution"] == "PermissionError" and facts["read checks"] == "PermissionError"
    assert facts["write repository"] == "PermissionError" and facts["write cwd"] == "OK"


def test_the_zygote_refuses_to_fork_with_checks_in_memory(monkeypatch):
    monkeypatch.setitem(sys.modules, "autograder.exercises.ex01_convolution", object())
    with pytest.raises(RuntimeError, match="refusing to fork"):
        zygote_server._check_clean()


def test_uids_are_claimed_once_per_server():
    if os.geteuid() != 0:
        pytest.skip("claiming a uid needs root")
    uid1, lock1 = sandbox.claim_uid()
    uid2, lock2 = sandbox.claim_uid()
    try:
        assert uid1 != uid2 and uid1 >= sandbox.UID_BASE
    finally:
        lock1.close()
        lock2.close()


# --------------------------------------------------------------------------- same results as in-process


@pytest.fixture(scope="module")
def grader(tmp_path_factory):
    g = Grader(EX01.name, Options(timeout=10, memory_mb=512), [], tmp_path_factory.mktemp("out"))
    yield g
    g.close()


MUTANTS = {
    "flipped_kernel": {"conv2d": function_source("ex01", "conv2d", [("weights = kernel.reshape(", "weights = kernel[::-1, ::-1].reshape(")])},
    "bias_missing": {"conv2d": function_source("ex01", "conv2d", [("out = out + np.asarray(bias)", "pass")])},
    "same_rounds_down": {
        "conv_output_size": function_source(
            "ex01", "conv_output_size", [("return -(-input_size // strides)", "return input_size // strides")]
        )
    },
    "modifies_input": {
        "zero_pad": function_source("ex01", "zero_pad", [("    ### BEGIN SOLUTION", "    images[...] = 0\n    ### BEGIN SOLUTION")])
    },
    "raises": {"conv_single_step": "def conv_single_step(window, kernel, bias=0.0):\n    raise ValueError('window and kernel differ')\n"},
    "not_numpy": {"conv2d": "def conv2d(images, kernel, bias=None, strides=1, padding='valid'):\n    import scipy.signal\n    return scipy.signal.correlate(images, kernel)\n"},
    "one_stub": {"zero_pad": "def zero_pad(images, padding):\n    raise NotImplementedError('zero_pad')\n"},
}


def _rows(report):
    return [(r.name, r.score, r.status, r.output) for r in report.results]


@pytest.mark.parametrize("name", ["solution", "stub"] + sorted(MUTANTS))
def test_isolated_results_equal_in_process_results(grader, tmp_path, name):
    if name == "solution":
        path = solution_path("ex01")
    elif name == "stub":
        path = assignment_path("ex01")
    else:
        path = student_file(tmp_path, "ex01", MUTANTS[name], name=f"{name}.py")
    isolated_report, _ = grader.report(path)
    assert _rows(isolated_report) == _rows(check_file("ex01", path, hidden=True))
    assert isolated_report.problems == check_file("ex01", path, hidden=True).problems


@pytest.mark.slow
def test_keras_exercise_probes_run_isolated_with_the_same_results(tmp_path):
    """ex04: the child builds and trains the model through the probes; the grader scores the data."""
    grader = Grader("ex04", Options(), [], tmp_path)
    try:
        isolated_report, sandbox_applied = grader.report(solution_path("ex04"))
    finally:
        grader.close()
    in_process = check_file("ex04", solution_path("ex04"), hidden=True)
    assert _rows(isolated_report) == _rows(in_process)
    assert isolated_report.score == isolated_report.max_score
    history = [r.artifacts.get("history") for r in isolated_report.results if r.artifacts.get("history")]
    assert history and all(isinstance(v, list) for v in history[0].values())


def test_the_grader_says_which_protections_are_missing():
    with zygote.Zygote(EX01.name, mounts=False, landlock=False) as z:
        assert any("chmod -R o-rwx" in m for m in z.missing)
        with isolated(z, probe_source()) as student:
            assert student.wait(0) == 0


def test_a_virtual_environment_inside_the_hidden_checkout_stays_readable(monkeypatch, tmp_path):
    checkout = tmp_path / "checkout"
    site = checkout / ".venv" / "lib" / "site-packages"
    tests_dir = checkout / "tests"
    site.mkdir(parents=True)
    tests_dir.mkdir()
    monkeypatch.setattr(sandbox.sys, "prefix", str(checkout / ".venv"))
    monkeypatch.setattr(sandbox.sys, "exec_prefix", str(checkout / ".venv"))
    monkeypatch.setattr(sandbox.sys, "path", [str(site), str(tests_dir), str(checkout)])
    trees = sandbox.interpreter_trees(exclude=[str(checkout)])
    assert os.path.realpath(checkout / ".venv") in trees
    assert os.path.realpath(tests_dir) not in trees and os.path.realpath(checkout) not in trees


def test_a_machine_the_seccomp_filter_does_not_know_is_reported_not_a_crash(monkeypatch):
    monkeypatch.setattr(seccomp, "supported", lambda: False)  # e.g. an architecture without a filter
    found, missing = zygote_server._detect({})
    assert found["seccomp"] is False
    assert any("seccomp" in line for line in missing)


def test_sandboxed_children_compute_on_the_cpu_even_where_the_grader_sees_a_gpu(monkeypatch):
    from autograder.isolation.zygote import clean_environment

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setenv("JAX_PLATFORMS", "cuda")
    env = clean_environment()
    assert env["CUDA_VISIBLE_DEVICES"] == "" and env["JAX_PLATFORMS"] == "cpu"


def test_an_ml_runtime_gets_address_space_for_its_threads_and_numpy_alone_does_not(monkeypatch):
    import sys as _sys

    from autograder.isolation import sandbox

    monkeypatch.setattr(sandbox.os, "cpu_count", lambda: 16)
    for name in ("jax", "tensorflow"):
        monkeypatch.delitem(_sys.modules, name, raising=False)
    assert sandbox.runtime_reserve_mb() == 0
    monkeypatch.setitem(_sys.modules, "jax", object())
    assert sandbox.runtime_reserve_mb() == 16 * sandbox.RESERVE_PER_CPU_MB  # 6 GB: ex04 on JAX needed 6-8 GB more
    monkeypatch.setattr(sandbox.os, "cpu_count", lambda: 128)
    assert sandbox.runtime_reserve_mb() == 16 * sandbox.RESERVE_PER_CPU_MB  # bounded on big machines


def test_what_checks_memoised_during_a_hidden_check_is_gone_before_a_public_one(monkeypatch):
    from autograder.isolation.proxy import IsolatedStudent

    student = object.__new__(IsolatedStudent)  # no child needed: begin_check's bookkeeping only
    student.memo, student._saw_hidden, student._pid = {}, False, None
    student._budget = type("B", (), {"timeout": 1.0})()
    monkeypatch.setattr(IsolatedStudent, "_end_child", lambda self: None)
    hidden, public = type("C", (), {"hidden": True})(), type("C", (), {"hidden": False})()
    student.begin_check(hidden)
    student.memo["trained"] = "computed on a hidden check's inputs"
    student.begin_check(public)
    assert student.memo == {}
