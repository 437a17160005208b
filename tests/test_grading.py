"""`cnnex grade`: a class's submissions graded in isolation, resumably, into a gradebook.

The hostile corpus (`tests/hostile/`) is graded in one batch with an honest solution and
the untouched stub: each file must get exactly its expected score and statuses, no file
of the grader may change, and no process may be left behind.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from helpers_exercises import assignment_path, solution_path, student_file

from autograder import exercises
from autograder.checks import CRASHED, ERROR, MEMORY, NOT_IMPLEMENTED, PASSED, POLICY, TIMEOUT, Result
from autograder.cli import main
from autograder.errors import GraderError
from autograder.grading import Options, grade
from autograder.isolation import sandbox
from autograder.reports import gradebook
from autograder.reports.html import feedback_page, history_svg
from autograder.submissions import MAX_MEMBERS, collect, in_shard

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile"
EX01 = exercises.get("ex01")
STRIDES = "conv2d: strides differ per axis"
PAD = "zero_pad: pads height and width only"
ALL = "*"  # every check
# a function that kills its child (timeout, memory, crash) costs the time limit once: the
# strides check and every conv2d check after it get its status without running it again
AFTER = [c.name for c in EX01.checks_for(["conv2d"], hidden=True)]
AFTER = AFTER[AFTER.index(STRIDES):]


def faulted(status: str) -> dict:
    return dict.fromkeys(AFTER, status)


# name -> (total out of 18, {check name, function or ALL: status}); other checks pass when total > 0
EXPECTED = {
    "honest": (18, {}),
    "stub": (0, {ALL: NOT_IMPLEMENTED}),
    "loop_in_conv2d": (12, faulted(TIMEOUT)),
    "loop_at_import": (0, {ALL: TIMEOUT}),
    "memory_bomb": (12, faulted(MEMORY)),
    "os_exit_in_function": (12, faulted(CRASHED)),
    "sys_exit_in_function": (17, {STRIDES: CRASHED}),
    "os_exit_at_import": (0, {ALL: CRASHED}),
    "sys_exit_at_import": (18, {}),
    "segfault": (12, faulted(CRASHED)),
    "sigterm_ignored": (12, faulted(TIMEOUT)),
    "fork_bomb": (18, {}),
    "floods_output": (18, {}),
    "snoops": (17, {PAD: ERROR}),
    "writes_grader_files": (17, {PAD: ERROR}),
    "forges_replies": (17, {STRIDES: ERROR}),
    "monkeypatches_grader": (0, {}),
    "always_equal": (0, {}),
    "object_arrays": (0, {}),
    "bad_binary": (0, {ALL: ERROR}),
    "bad_corrupt_notebook": (0, {ALL: ERROR}),
    "bad_empty": (0, {ALL: ERROR}),
    "bad_syntax_error": (0, {ALL: ERROR}),
    "bad_missing_import": (4, {"zero_pad": ERROR, "conv_single_step": ERROR, "conv2d": ERROR}),
    "bad_missing_functions": (7, {"conv_single_step": ERROR, "conv2d": ERROR}),
    "leaks_hidden_inputs": (17, {PAD: ERROR}),
    "unencodable_text": (17, {PAD: ERROR}),
    "many_foreign_types": (17, {STRIDES: "failed"}),
    "reads_environment": (17, {PAD: ERROR}),
    "leaves_ipc_and_sockets": (17, {PAD: ERROR}),
    "patches_numpy_at_load": (0, {ALL: POLICY}),
    "long_assignment_chain": (18, {}),
    "huge_literal": (0, {ALL: ERROR}),
    "deep_nesting": (0, {ALL: ERROR}),
    "bad_deep_notebook": (0, {ALL: ERROR}),
    "gradebook.csv-2": (18, {}),  # honest, named gradebook.csv.py
    "caf__honest": (18, {}),  # honest, its name not UTF-8
}
MESSAGES = {
    "bad_binary": "binary file",
    "bad_corrupt_notebook": "not a valid notebook",
    "bad_empty": "is empty",
    "bad_syntax_error": "SyntaxError",
    "bad_missing_import": "NameError: name 'np' is not defined",
    "bad_missing_functions": "`conv2d` is not defined in your file",
    "segfault": "SIGSEGV",
    "os_exit_in_function": "exited with code 0",
    "sys_exit_in_function": "called exit()",
    "memory_bomb": "ran out of memory",
    "loop_at_import": "loading your file did not finish",
    "os_exit_at_import": "loading your file",
    "leaks_hidden_inputs": "kept: []",
    "patches_numpy_at_load": "changes other objects when the file is loaded",
    "huge_literal": "within the grader's limits",
    "bad_deep_notebook": "within the grader's limits",
}
SECRETS = {"AWS_SECRET_ACCESS_KEY": "cnnexFAKEsecret0123456789abcdef", "GITHUB_TOKEN": "ghp_cnnexFAKEtoken42"}
GUARDED = ["autograder/checks.py", "autograder/context.py", "autograder/running.py", "autograder/student.py",
           "autograder/loading.py", "autograder/exercises/ex01_convolution.py",
           "solutions/ex01_convolution.py"] + [f"autograder/isolation/{f}" for f in
           ("child.py", "protocol.py", "proxy.py", "sandbox.py", "zygote.py", "landlock.py")]


def _hashes(paths) -> dict:
    return {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in paths}


def _leftovers() -> list[str]:
    """Sandbox processes left behind: orphans of a sandbox uid, or zygotes of this test process.

    Children of a live zygote (another grading run on the machine) are not leftovers.
    """
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields["State"].split()[0] == "Z":  # dead, waiting to be reaped by its new parent
                continue
            procs[int(entry)] = (int(fields["Uid"].split()[0]), int(fields["PPid"]), cmdline)
    zygotes = {pid for pid, (_, _, cmd) in procs.items() if "isolation.zygote" in cmd}
    found = []
    for pid, (uid, ppid, cmd) in procs.items():
        sandboxed = sandbox.UID_BASE <= uid < sandbox.UID_BASE + sandbox.UID_COUNT
        if (sandboxed and ppid not in zygotes and procs.get(ppid, (0,))[0] != uid) or (
            pid in zygotes and ppid in (1, os.getpid())
        ):
            found.append(f"{pid} uid={uid} ppid={ppid} {cmd}")
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming a sandbox uid needs root")
def test_the_leftover_detector_sees_an_orphan_of_a_sandbox_uid():
    uid = sandbox.UID_BASE + sandbox.UID_COUNT - 1
    pid = os.fork()
    if pid == 0:  # becomes the uid, leaves an orphan sleeping, exits
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            if os.fork() == 0:
                os.setsid()
                time.sleep(30)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.2)
    try:
        assert any(f"uid={uid}" in line for line in _leftovers())
    finally:
        sandbox.kill_user(uid)
    time.sleep(0.2)
    assert not any(f"uid={uid}" in line for line in _leftovers())


def _results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text())


def _generated_hostile() -> dict[str, bytes]:
    """Hostile files too large to keep in the repository (see tests/hostile/README.md)."""
    honest = solution_path("ex01").read_text()
    chain = "LIMIT = STEP_0\n" + "".join(f"STEP_{i} = STEP_{i + 1}\n" for i in range(1500)) + "STEP_1500 = 0\n"
    return {
        # thousands of assignments read one through the next: a quadratic loader times out
        "long_assignment_chain.py": (honest + "\n" + chain + "\n\ndef _uses_limit():\n    return LIMIT\n").encode(),
        # a million-element literal a kept function reads: parsing it needs far more memory than the file
        "huge_literal.py": (honest + "\nTABLE = [" + "0," * 1_000_000 + "]\n\ndef _uses_table():\n    return TABLE\n").encode(),
        # nested too deeply for the parser
        "deep_nesting.py": ("x = " + "-" * 200_000 + "1\n" + honest).encode(),
        # notebook JSON nested too deeply for a recursive reader
        "bad_deep_notebook.ipynb": ('{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}").encode(),
        # honest files whose names collide with the grader's gradebook or are not UTF-8
        "gradebook.csv.py": honest.encode(),
        os.fsdecode(b"caf\xe9_honest.py"): honest.encode(),
    }


def _sysv_ipc() -> dict[str, list[str]]:
    return {kind: Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:] for kind in ("shm", "msg", "sem")
            if Path(f"/proc/sysvipc/{kind}").exists()}


class _PeakMemory:
    """Samples the peak resident memory (VmHWM) of this process and of its child processes (the
    grader's workers) while a batch runs; the sandboxed children run under their own uid and
    are not counted."""

    def __init__(self):
        self.peak_kb = {"grader": 0, "worker": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = os.getpid()
        while not self._stop.wait(0.1):
            for entry in os.listdir("/proc"):
                try:
                    status = Path(f"/proc/{entry}/status").read_text() if entry.isdigit() else ""
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                if "VmHWM" not in fields:
                    continue
                kind = "grader" if int(entry) == me else "worker" if int(fields["PPid"]) == me else None
                if kind:
                    self.peak_kb[kind] = max(self.peak_kb[kind], int(fields["VmHWM"].split()[0]))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    """Grade the corpus, the solution and the stub in one run (2 jobs, 3 s per check, 128 MB),
    with fake secrets in the grader's environment and UNIX sockets of the machine to reach."""
    base = tmp_path_factory.mktemp("hostile")
    subs, out = base / "submissions", base / "grades"
    subs.mkdir()
    unix_path = f"/tmp/cnnex-hostile-{os.getpid()}.sock"
    unix_abstract = f"cnnex-hostile-{os.getpid()}"
    listeners = []
    for address in (unix_path, "\0" + unix_abstract):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(address)
        listener.listen(8)
        listener.setblocking(False)
        listeners.append(listener)
    os.chmod(unix_path, 0o777)
    replacements = (("@REPO@", ROOT), ("@OUT@", out), ("@SUBMISSIONS@", subs),
                    ("@UNIX_PATH@", unix_path), ("@UNIX_ABSTRACT@", unix_abstract))
    for path in HOSTILE.iterdir():
        if not path.is_file():
            continue  # tests/hostile/ex04/: the Keras corpus, graded by its own test
        data = path.read_bytes()
        for key, value in replacements:
            data = data.replace(key.encode(), str(value).encode())
        (subs / path.name).write_bytes(data)
    for name, data in _generated_hostile().items():
        (subs / name).write_bytes(data)
    shutil.copy(solution_path("ex01"), subs / "honest.py")
    shutil.copy(assignment_path("ex01"), subs / "stub.ipynb")
    Path("/tmp/cnnex-hostile-unpickled").unlink(missing_ok=True)
    before = _hashes(GUARDED)
    ipc_before = _sysv_ipc()
    saved = {k: os.environ.get(k) for k in SECRETS}
    os.environ.update(SECRETS)
    try:
        with _PeakMemory() as peak:
            summary = grade("ex01", [subs], out, Options(timeout=3, memory_mb=128, jobs=2))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    connections = 0
    for listener in listeners:
        try:
            while listener.accept():
                connections += 1
        except BlockingIOError:
            pass
        listener.close()
    Path(unix_path).unlink(missing_ok=True)
    FACTS.update(connections=connections, ipc_before=ipc_before, ipc_after=_sysv_ipc(), peak_kb=peak.peak_kb)
    return summary, out, before


FACTS: dict = {}  # what the hostile batch left behind, measured by its fixture


@pytest.mark.slow
def test_every_hostile_submission_gets_exactly_its_expected_score(hostile_batch):
    summary, out, _ = hostile_batch
    assert not summary.failed
    assert sorted(o.name for o in summary.outcomes) == sorted(EXPECTED)
    for name, (total, statuses) in EXPECTED.items():
        doc = _results(out, name)
        assert doc["score"] == total and doc["max_score"] == 18, (name, doc["score"])
        for test in doc["tests"]:
            status = test["tags"][1]
            function = test["name"].split(":")[0]
            wanted = statuses.get(test["name"], statuses.get(function, statuses.get(ALL, PASSED if total else None)))
            if wanted is None:
                assert status != PASSED, (name, test["name"])
            else:
                assert status == wanted, (name, test["name"], status, test["output"])
        text = doc["output"] + "\n".join(t["output"] for t in doc["tests"])
        assert MESSAGES.get(name, "") in text, (name, text[:500])


@pytest.mark.slow
def test_snooping_and_writing_are_denied_and_change_nothing(hostile_batch):
    _, out, before = hostile_batch
    for name in ("snoops", "writes_grader_files"):
        report = next(t["output"] for t in _results(out, name)["tests"] if t["name"] == PAD)
        attempts = [line for line in report.splitlines() if ": " in line and ("DENIED" in line or "OK" in line)]
        assert len(attempts) >= 6, report
        assert all("DENIED" in line for line in attempts), report
    assert _hashes(GUARDED) == before
    assert not (ROOT / "pwned.txt").exists()
    assert _results(out, "honest")["score"] == 18  # its results.json was not touched by the writer
    assert not Path("/tmp/cnnex-hostile-unpickled").exists()


@pytest.mark.slow
def test_an_import_time_hang_costs_one_time_limit_not_one_per_check(hostile_batch):
    _, out, _ = hostile_batch
    assert _results(out, "loop_at_import")["execution_time"] < 2 * 3 + 2


@pytest.mark.slow
def test_no_process_is_left_after_grading(hostile_batch):
    assert _leftovers() == []


@pytest.mark.slow
def test_no_ipc_object_socket_connection_or_key_is_left(hostile_batch):
    _, out, _ = hostile_batch
    assert FACTS["connections"] == 0
    assert FACTS["ipc_after"] == FACTS["ipc_before"]
    report = next(t["output"] for t in _results(out, "leaves_ipc_and_sockets")["tests"] if t["name"] == PAD)
    for attempt in ("add_key", "unix path", "unix abstract"):
        assert f"{attempt}: DENIED" in report, report
    if os.geteuid() == 0:  # own IPC and PID namespaces: its objects are private, it sees only itself
        assert "shmget: OK" in report and "processes: OK [1]" in report, report


@pytest.mark.slow
def test_no_secret_of_the_graders_environment_reaches_any_output(hostile_batch):
    _, out, _ = hostile_batch
    report = next(t["output"] for t in _results(out, "reads_environment")["tests"] if t["name"] == PAD)
    assert "env: " in report  # it ran and reported what it found
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in SECRETS.values():
                assert secret.encode() not in data, (path, secret)


@pytest.mark.slow
def test_a_public_check_never_shows_what_a_hidden_check_gave(hostile_batch):
    _, out, _ = hostile_batch
    report = next(t["output"] for t in _results(out, "leaks_hidden_inputs")["tests"] if t["name"] == PAD)
    assert "kept: []" in report and "conv_output_size" not in report


@pytest.mark.slow
def test_unencodable_text_is_written_as_valid_utf8_without_escapes(hostile_batch):
    _, out, _ = hostile_batch
    for name in ("results.json", "feedback.html"):
        text = (out / "unencodable_text" / name).read_bytes().decode("utf-8")
        assert "\x1b" not in text and "\u202e" not in text
    assert "loading problem" in _results(out, "unencodable_text")["output"]
    (out / "gradebook.csv").read_bytes().decode("utf-8")


@pytest.mark.slow
def test_the_graders_peak_memory_stays_bounded(hostile_batch):
    peak = FACTS["peak_kb"]
    print(f"peak resident memory: grading process {peak['grader'] // 1024} MB, worker {peak['worker'] // 1024} MB")
    assert 0 < peak["worker"] < 400 * 1024, peak  # a worker holds one submission's replies at most


@pytest.mark.slow
def test_feedback_and_gradebook_are_written_for_every_submission(hostile_batch):
    _, out, _ = hostile_batch
    checks, rows = gradebook.read(out / "gradebook.csv")
    assert checks == [c.name for c in EX01.checks]
    assert {r["submission"]: float(r["total"]) for r in rows} == {n: float(t) for n, (t, _) in EXPECTED.items()}
    assert "TIMEOUT x16" in next(r["notes"] for r in rows if r["submission"] == "loop_at_import")
    for name in EXPECTED:
        page = (out / name / "feedback.html").read_text()
        assert page.startswith("<!DOCTYPE html>") and f"<strong>{name}</strong>" in page
        meta = json.loads((out / name / "grading.json").read_text())
        assert meta["submission"] == name and len(meta["key"]) == 64


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
        except OSError:
            continue
        if stat:
            fields = stat[stat.rfind(")") + 2:].split()
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.slow
def test_a_grader_stopped_with_sigterm_then_sigkill_leaves_nothing_and_resumes(tmp_path):
    """As a Slurm time limit stops it: SIGTERM, SIGKILL two seconds later, to the grader alone."""
    subs, out = tmp_path / "class", tmp_path / "out"
    subs.mkdir()
    for i in range(4):
        shutil.copy(HOSTILE / "loop_in_conv2d.py", subs / f"slow{i}.py")
    shutil.copy(solution_path("ex01"), subs / "honest.py")
    command = ("from autograder.cli import main; raise SystemExit(main(['grade', 'ex01', "
               f"{str(subs)!r}, '--out', {str(out)!r}, '--jobs', '2', '--timeout', '3']))")
    grader = subprocess.Popen([sys.executable, "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(
        "isolation.zygote" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        for p in seen if _alive(p)
    ):
        seen |= _descendants(grader.pid)
        time.sleep(0.2)
    time.sleep(1.0)
    seen |= _descendants(grader.pid)
    assert len(seen) >= 4, seen  # workers, a resource tracker, zygotes, children
    grader.send_signal(signal.SIGTERM)
    time.sleep(2.0)
    if grader.poll() is None:
        grader.kill()
    grader.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in seen):
        time.sleep(0.2)
    assert [p for p in seen if _alive(p)] == []
    summary = grade("ex01", [subs], out, Options(timeout=3, jobs=2), stream=io.StringIO())
    assert not summary.failed and len(summary.outcomes) == 5
    rows = {r["submission"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}
    expected = f"{EXPECTED['loop_in_conv2d'][0]:g}"
    assert rows["honest"]["total"] == "18" and {r["total"] for n, r in rows.items() if n != "honest"} == {expected}


@pytest.mark.slow
def test_keras_measurements_cannot_be_forged_by_the_students_objects(tmp_path):
    """ex04: the model is measured where no student code runs; see tests/hostile/ex04/."""
    subs = tmp_path / "class"
    subs.mkdir()
    for path in (HOSTILE / "ex04").iterdir():
        shutil.copy(path, subs / path.name)
    shutil.copy(solution_path("ex04"), subs / "honest.py")
    summary = grade("ex04", [subs], tmp_path / "out", Options(jobs=1, timeout=120), stream=io.StringIO())
    assert not summary.failed
    scores = {o.name: o.score for o in summary.outcomes}
    assert scores["honest"] == 10
    for name in ("count_params_lies", "looks_up_answers"):
        doc = _results(tmp_path / "out", name)
        assert doc["score"] == 0, name
        assert all("Keras' own classes only" in t["output"] for t in doc["tests"] if t["visibility"] == "visible"), name
    trained = next(t for t in _results(tmp_path / "out", "memorizes_in_initializer")["tests"] if "held-out" in t["name"])
    assert trained["score"] == 0 and "carries data" not in trained["output"] and "configuration is" in trained["output"]


# --------------------------------------------------------------------------- resuming, shards, merging


def _class(tmp_path: Path) -> Path:
    """A small class: the solution, the stub and two mistakes."""
    subs = tmp_path / "class"
    subs.mkdir()
    shutil.copy(solution_path("ex01"), subs / "ada.py")
    shutil.copy(assignment_path("ex01"), subs / "bob.ipynb")
    student_file(subs, "ex01", {"zero_pad": "def zero_pad(images, padding):\n    return images\n"}, name="cy.py")
    student_file(subs, "ex01", {"conv_single_step": "def conv_single_step(w, k, b=0.0):\n    return 0.0\n"},
                 name="dee.py")
    return subs


def _tests(out: Path, name: str) -> list:
    return [(t["name"], t["score"], t["status"], t["output"]) for t in _results(out, name)["tests"]]


def test_a_second_run_skips_what_is_graded_and_regrades_a_changed_file(tmp_path):
    subs, out = _class(tmp_path), tmp_path / "out"
    first = grade("ex01", [subs], out, Options(timeout=10, jobs=1), stream=io.StringIO())
    assert [o.name for o in first.graded] == ["ada", "bob", "cy", "dee"]
    before = {n: _tests(out, n) for n in ("ada", "bob", "cy", "dee")}
    stamp = (out / "ada" / "results.json").stat().st_mtime_ns

    again = grade("ex01", [subs], out, Options(timeout=10, jobs=1), stream=io.StringIO())
    assert len(again.skipped) == 4 and not again.graded
    assert (out / "ada" / "results.json").stat().st_mtime_ns == stamp

    shutil.copy(solution_path("ex01"), subs / "bob.ipynb")
    (subs / "bob.ipynb").rename(subs / "bob.py")
    third = grade("ex01", [subs], out, Options(timeout=10, jobs=1), stream=io.StringIO())
    assert [o.name for o in third.graded] == ["bob"] and _results(out, "bob")["score"] == 18

    forced = grade("ex01", [subs], out, Options(timeout=10, jobs=1, force=True), stream=io.StringIO())
    assert len(forced.graded) == 4
    assert {n: _tests(out, n) for n in ("ada", "cy", "dee")} == {n: before[n] for n in ("ada", "cy", "dee")}


@pytest.mark.slow
def test_shards_split_the_class_and_merge_into_the_full_gradebook(tmp_path, capsys):
    subs = _class(tmp_path)
    whole = grade("ex01", [subs], tmp_path / "all", Options(timeout=10, jobs=2), stream=io.StringIO())
    names = [o.name for o in whole.outcomes]
    shards = []
    for i in range(3):
        out = tmp_path / f"shard{i}"
        s = grade("ex01", [subs], out, Options(timeout=10, jobs=1, shard=(i, 3)), stream=io.StringIO())
        shards.append(out)
        assert [o.name for o in s.outcomes] == [n for n in names if in_shard(n, (i, 3))]
    assert main(["gradebook", "merge", *map(str, shards), "--out", str(tmp_path / "merged")]) == 0
    assert "Merged 4 submission(s)" in capsys.readouterr().out
    merged = (tmp_path / "merged" / "gradebook.csv").read_text()
    assert merged == (tmp_path / "all" / "gradebook.csv").read_text()
    for name in ("mistakes.csv", "report_data.json"):  # the class report's data merges too
        assert (tmp_path / "merged" / name).read_text() == (tmp_path / "all" / name).read_text()
    assert (tmp_path / "merged" / "report.html").exists()


def test_merge_refuses_gradebooks_of_different_exercises(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    gradebook.write(a, ["conv2d: x"], [{"submission": "s", "total": "1", "max_score": "1", "conv2d: x": "1"}])
    gradebook.write(b, ["zero_pad: y"], [{"submission": "t", "total": "1", "max_score": "1", "zero_pad: y": "1"}])
    with pytest.raises(GraderError, match="other checks"):
        gradebook.merge([a, b])


def test_cli_grades_a_folder_and_prints_a_summary(tmp_path, capsys):
    subs = tmp_path / "class"
    subs.mkdir()
    shutil.copy(solution_path("ex01"), subs / "ada.py")
    assert main(["grade", "ex01", str(subs), "--out", str(tmp_path / "out"), "--jobs", "1", "--timeout", "10"]) == 0
    captured = capsys.readouterr()
    assert "Graded 1 submission(s) of ex01_convolution" in captured.out and "mean score 18.00/18" in captured.out
    assert "isolation:" in captured.err and "1/1" in captured.err
    with open(tmp_path / "out" / "gradebook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["submission"] == "ada" and rows[0]["total"] == "18"


@pytest.mark.parametrize("bad", ["3/2", "1", "a/b", "-1/2"])
def test_cli_rejects_a_malformed_shard(tmp_path, bad, capsys):
    with pytest.raises(SystemExit):
        main(["grade", "ex01", str(tmp_path), "--out", str(tmp_path / "o"), "--shard", bad])
    err = capsys.readouterr().err
    assert "I/N" in err or "0 <= I < N" in err


# --------------------------------------------------------------------------- finding submissions


def test_lms_zip_is_extracted_without_escaping_its_folder(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Ada Lovelace_1_assignsubmission_file_/ex01_convolution.ipynb", "{}")
        zf.writestr("bob_22_33_ex01.py", "x = 1\n")
        zf.writestr("../escape.py", "x = 1\n")
        zf.writestr("/absolute.py", "x = 1\n")
        zf.writestr("__MACOSX/._bob.py", "junk")
        zf.writestr("notes.txt", "not a submission")
        link = zipfile.ZipInfo("link.py")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    scratch = tmp_path / "scratch"
    subs = collect([archive], scratch)
    assert [s.name for s in subs] == ["Ada_Lovelace_1_assignsubmission_file", "bob_22_33_ex01"]
    assert all(s.path.resolve().is_relative_to(scratch.resolve()) for s in subs)
    assert not (tmp_path / "escape.py").exists() and not Path("/absolute.py").exists()


def test_a_bad_member_costs_that_member_and_the_rest_is_extracted(tmp_path, monkeypatch):
    import autograder.submissions as submissions

    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.py", "#" * 2_000_000)
        zf.writestr("alice.py", "x = 1\n")
        zf.writestr("carol/ex01.py", "x = 1\n")
        zf.writestr("carol\\ex01.py", "x = 2\n")  # the same member once backslashes are slashes
        zf.writestr("dave/inner.zip", b"PK")
    monkeypatch.setattr(submissions, "MAX_MEMBER_BYTES", 100_000)
    skipped = []
    subs = collect([archive], tmp_path / "x", skipped)
    assert [s.name for s in subs] == ["alice", "carol"]
    assert subs[1].path.read_text() == "x = 1\n" and subs[1].source == "class.zip:carol/ex01.py"
    reasons = {item.source: item.reason for item in skipped}
    assert set(reasons) == {"class.zip:bomb.py", "class.zip:carol\\ex01.py", "class.zip:dave/inner.zip"}
    assert "MB" in reasons["class.zip:bomb.py"] and "twice" in reasons["class.zip:carol\\ex01.py"]
    assert "archive inside" in reasons["class.zip:dave/inner.zip"]
    assert MAX_MEMBERS > 0


def test_names_never_collide_with_each_other_or_the_grader_files(tmp_path):
    import autograder.submissions as submissions

    from autograder.reports import class_report

    assert {class_report.DATA, class_report.PAGE, class_report.MISTAKES} <= submissions.RESERVED
    for name in ("bob!.py", "bob.py", "gradebook.csv.py", "problems.csv.py", "-rm.py"):
        (tmp_path / name).write_text("x = 1\n")
    subs = {s.source.rsplit("/", 1)[-1]: s.name for s in collect([tmp_path], tmp_path / "scratch")}
    assert subs["bob.py"] == "bob" and subs["bob!.py"] == "bob-2"  # an exact name is never taken
    assert subs["gradebook.csv.py"] not in ("gradebook.csv", "problems.csv")
    assert subs["problems.csv.py"] not in ("gradebook.csv", "problems.csv")
    assert subs["-rm.py"] == "rm" and len(set(subs.values())) == len(subs)


def test_long_and_undecodable_names_keep_the_student_id_and_stay_unique(tmp_path):
    raw = os.fsencode(tmp_path) + b"/"
    long_a = "Ada Lovelace_4711_" + "x" * 200 + "_a"
    long_b = "Ada Lovelace_4711_" + "x" * 200 + "_b"
    for folder in (long_a, long_b):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "ex01.py").write_text("x = 1\n")
    os.mkdir(raw + b"J\xf6rg_0815")  # Latin-1, as unzip writes names from some LMS archives
    (Path(os.fsdecode(raw + b"J\xf6rg_0815")) / "ex01.py").write_text("x = 1\n")
    subs = collect([tmp_path], tmp_path / "scratch")
    names = sorted(s.name for s in subs)
    assert len(set(names)) == 3 and all(len(n) <= 100 for n in names)
    assert sum(n.startswith("Ada_Lovelace_4711_") for n in names) == 2
    assert any(n.startswith("J") and n.endswith("rg_0815") for n in names)
    for sub in subs:
        sub.source.encode("utf-8")  # shown without lone surrogates


def test_a_class_with_bad_members_is_graded_with_a_problems_report(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(solution_path("ex01"), "alice/ex01_convolution.py")
        zf.writestr("bob/nested.zip", b"PK")
        zf.writestr("gradebook.csv.py", "x = 1\n")
    out = tmp_path / "out"
    summary = grade("ex01", [archive], out, Options(timeout=10, jobs=1), stream=io.StringIO())
    assert {o.name: o.score for o in summary.outcomes} == {"alice": 18, "gradebook.csv-2": 0}
    rows = {r["source"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}
    assert rows["class.zip:alice/ex01_convolution.py"]["total"] == "18"
    assert rows["class.zip:bob/nested.zip"]["notes"].startswith("SKIPPED: an archive inside")
    problems = list(csv.DictReader(io.StringIO((out / "problems.csv").read_text())))
    assert [p["source"] for p in problems] == ["class.zip:bob/nested.zip"]


def test_a_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(GraderError, match="No such file"):
        grade("ex01", [tmp_path / "nope"], tmp_path / "out")


# --------------------------------------------------------------------------- feedback page


def test_feedback_page_escapes_text_and_draws_the_training_curve():
    history = {"loss": [1.2, 0.7, 0.4], "accuracy": [0.5, 0.8, 0.9], "note": "ignored"}
    results = [
        Result("build_cnn: trains", "build_cnn", 3, 3, PASSED, "passed", artifacts={"history": history}),
        Result("build_cnn: <b>bold</b>", "build_cnn", 0, 1, "failed", "got <script>alert(1)</script>"),
        Result("build_cnn: hidden", "build_cnn", 0, 1, "failed", "hidden: failed", hidden=True,
               artifacts={"history": {"loss": [9.0, 8.0]}}),
    ]
    page = feedback_page("ex04 — Keras", "alice", results, ["cell 3, line 1: SyntaxError"])
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;bold" in page
    assert page.count("<svg") == 2  # loss and accuracy of the public check, nothing of the hidden one
    assert "Score: <strong>3</strong> / 5" in page and "SyntaxError" in page and "(hidden)" in page
    assert history_svg({"loss": [float("nan")]}) == ""


def test_a_zip_from_an_lms_is_graded_and_its_scratch_folder_removed(tmp_path):
    archive = tmp_path / "ex01_submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(solution_path("ex01"), "Ada Lovelace_1_assignsubmission_file_/ex01_convolution.py")
        zf.write(assignment_path("ex01"), "Bob_2_assignsubmission_file_/ex01_convolution.ipynb")
    out = tmp_path / "out"
    summary = grade("ex01", [archive], out, Options(timeout=10, jobs=1), stream=io.StringIO())
    assert {o.name: o.score for o in summary.outcomes} == {
        "Ada_Lovelace_1_assignsubmission_file": 18,
        "Bob_2_assignsubmission_file": 0,
    }
    source = json.loads((out / "Bob_2_assignsubmission_file" / "grading.json").read_text())["source"]
    assert not Path(source).exists()  # extracted into a scratch folder, removed after grading


# --------------------------------------------------------------------------- safe text, containment


def test_text_from_a_submission_is_made_safe_for_every_writer():
    from autograder.reports import safe

    text = safe.text("a\ud800b\x1b[31mc\u202ed" + "x" * 30_000)
    text.encode("utf-8")
    assert "\x1b" not in text and "\u202e" not in text and "more characters" in text and len(text) < 20_100
    assert safe.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and safe.csv_cell("bob") == "bob"
    assert safe.history({"loss": [10**400, 1.0, float("nan"), "x"], **{f"m{i}": [1.0] for i in range(50)}}) \
        == {"loss": [1.0], **{f"m{i}": [1.0] for i in range(11)}}
    assert history_svg({"loss": [10**400, 2.0, 1.0]}).startswith("<svg")


def test_a_failure_of_the_graders_own_code_on_a_file_is_contained_and_repeats_on_rerun(tmp_path, monkeypatch):
    import autograder.pipeline as pipeline

    subs = _class(tmp_path)
    real = pipeline.run_checks

    def fragile(exercise, student, *args, **kwargs):
        if student._filename.startswith("cy"):
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(exercise, student, *args, **kwargs)

    monkeypatch.setattr(pipeline, "run_checks", fragile)
    out = tmp_path / "out"
    summary = grade("ex01", [subs], out, Options(timeout=10, jobs=1), stream=io.StringIO())
    assert not summary.failed and {o.name: o.score for o in summary.outcomes}["ada"] == 18
    doc = _results(out, "cy")
    assert doc["score"] == 0 and "the grader could not check this file (UnicodeEncodeError)" in doc["tests"][0]["output"]
    again = grade("ex01", [subs], out, Options(timeout=10, jobs=1), stream=io.StringIO())
    assert [o.name for o in again.skipped] == sorted(o.name for o in again.outcomes)  # the same result stands
