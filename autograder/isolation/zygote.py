"""The zygote: a clean, preloaded process that forks one sandboxed child per submission.

The grader starts it with `python -m autograder.isolation.zygote FD` (a fresh interpreter,
so it shares no memory with the grader), tells it the exercise, and the zygote imports
only what a child needs: NumPy, the loader, the exercise's probes module (which pulls in
Keras for the Keras exercises), common standard-library modules. It never imports the
checks (`autograder.exercises.*`) or the reference solutions, and refuses to fork if any
such module is in its memory, since a forked child inherits all of it.

Control messages travel over a `SOCK_SEQPACKET` socket as JSON; a spawn request carries
the child's end of a fresh socket pair (SCM_RIGHTS), over which the grader then talks to
the child directly. The zygote is a subreaper: whatever the child starts is re-parented to
it and killed when the child's submission is finished.

`Zygote` is the grader's handle on it.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.errors import GraderError
from autograder.isolation import sandbox

FORBIDDEN = ("autograder.exercises", "autograder.reference", "autograder.pipeline", "autograder.runner", "autograder.grading",
             "solutions")
STDLIB = (
    "abc", "array", "bisect", "cmath", "collections", "collections.abc", "contextlib", "copy",
    "ctypes", "dataclasses", "decimal", "enum", "fractions", "functools", "heapq", "itertools",
    "json", "math", "numbers", "operator", "random", "re", "statistics", "string", "struct",
    "textwrap", "time", "types", "typing", "warnings",
)  # fmt: skip
_MAX_CONTROL = 1 << 16


@dataclasses.dataclass
class ExitInfo:
    """How a child ended: its exit code, or the signal that killed it and who sent it."""

    code: int | None = None
    signal: int | None = None
    killed_by_grader: bool = False

    def describe(self) -> str:
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = f"signal {self.signal}"
            return f"killed by {name}" + (f" ({_SIGNALS[name]})" if name in _SIGNALS else "")
        return f"exited with code {self.code}"


_SIGNALS = {
    "SIGSEGV": "segmentation fault",
    "SIGBUS": "bus error",
    "SIGABRT": "aborted",
    "SIGFPE": "arithmetic error",
    "SIGILL": "illegal instruction",
    "SIGXCPU": "CPU time limit",
    "SIGKILL": "killed",
}


# --------------------------------------------------------------------------- the grader's side


def grader_paths() -> tuple[list[str], str | None]:
    """What a child must never see (the `autograder` package, the solutions, the checkout, the
    plug-in folders of exercises), and the checkout's folder when the grader runs from a clone
    (else None: an installed package)."""
    from autograder import plugins
    from autograder.reference import solutions_dir  # here, in the grader: the zygote never imports it

    package = Path(__file__).resolve().parents[1]
    paths = [str(package), os.path.realpath(solutions_dir())] + [str(f) for f in plugins.folders()]
    checkout = package.parent
    if (checkout / "pyproject.toml").exists() or (checkout / ".git").exists():
        paths.append(str(checkout))
        return paths, str(checkout)
    return paths, None


# What the zygote's environment keeps of the grader's: how to find programs, libraries,
# the locale, Keras' backend and GPUs. Nothing else (tokens, keys, passwords) ever
# reaches the zygote's memory, so no child forked from it can find any of it.
KEPT_ENVIRONMENT = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "HOME", "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
    "KERAS_BACKEND", "KERAS_HOME", "CUDA_VISIBLE_DEVICES", "CNNEX_GRADE_UID", "CNNEX_GRADE_DEBUG",
    "CNNEX_EXERCISES",  # plug-in folders: the zygote imports their probes
)  # fmt: skip


def clean_environment() -> dict[str, str]:
    """The environment the zygote is started with: `KEPT_ENVIRONMENT` only."""
    return {k: os.environ[k] for k in KEPT_ENVIRONMENT if k in os.environ}


class Zygote:
    """Start a zygote and ask it for sandboxed children.

    Args:
        exercise: the exercise's full name; its probes module is preloaded.
        hide: paths children must not see (repository, solutions, output, submissions).
        preload: extra modules to import before forking.
        mounts, user, landlock: which protections to use when available (all by default).
        start_timeout: seconds to wait for the zygote's imports (Keras takes a while).

    Raises:
        GraderError: the zygote did not start.
    """

    def __init__(
        self,
        exercise: str,
        hide: list[str] = (),
        preload: list[str] = (),
        mounts: bool = True,
        user: bool = True,
        landlock: bool = True,
        start_timeout: float = 180.0,
    ):
        self.exercise = exercise
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = clean_environment()
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3")
        grader, checkout = grader_paths()
        if checkout:  # running from a clone that is not installed: the zygote must import it too
            env["PYTHONPATH"] = os.pathsep.join(p for p in (checkout, env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.isolation.zygote", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("CNNEX_GRADE_DEBUG") else subprocess.DEVNULL,  # TF's start-up noise
            cwd="/",
            env=env,
        )
        theirs.close()
        config = {
            "exercise": exercise,
            "hide": [os.path.realpath(p) for p in hide] + grader,
            "preload": list(preload),
            "mounts": mounts,
            "user": user,
            "landlock": landlock,
        }
        self.control.settimeout(start_timeout)
        try:
            self.control.send(json.dumps(config).encode())
            ready = self._reply()
        except (OSError, GraderError) as err:
            self.close()
            raise GraderError(f"the isolation server did not start: {err}") from None
        if "error" in ready:
            self.close()
            raise GraderError(f"the isolation server did not start: {ready['error']}")
        self.pid = ready["pid"]
        self.uid = ready.get("uid")
        self.protections = ready.get("protections", [])
        self.missing = ready.get("missing", [])
        self.control.settimeout(60)

    def _reply(self) -> dict:
        data = self.control.recv(_MAX_CONTROL)
        if not data:
            raise GraderError("the isolation server exited")
        return json.loads(data)

    def spawn(self, memory_mb: int, cpu_seconds: int, max_processes: int = 64, max_file_mb: int = 64):
        """A new sandboxed child: `(pid, socket)`. The child first sends `{"ready": ...}` or `{"fatal": ...}`."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request = {
            "op": "spawn",
            "memory_mb": int(memory_mb),
            "cpu_seconds": int(cpu_seconds),
            "max_processes": int(max_processes),
            "max_file_mb": int(max_file_mb),
        }
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], [theirs.fileno()])
            reply = self._reply()
        except OSError as err:
            mine.close()
            raise GraderError(f"the isolation server stopped answering: {err}") from None
        finally:
            theirs.close()
        if "error" in reply:
            mine.close()
            raise GraderError(reply["error"])
        return reply["pid"], mine

    def finish(self, pid: int, grace: float = 0.0) -> ExitInfo:
        """Kill child `pid` (after `grace` seconds to exit on its own) and everything it started."""
        try:
            self.control.send(json.dumps({"op": "finish", "pid": pid, "grace": grace}).encode())
            reply = self._reply()
        except OSError as err:
            raise GraderError(f"the isolation server stopped answering: {err}") from None
        return ExitInfo(reply.get("code"), reply.get("signal"), bool(reply.get("killed")))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """Stop the zygote (it kills its children and removes its folders)."""
        try:
            self.control.close()
        finally:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - it exits on EOF
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------- the zygote's side


def _check_clean() -> None:
    """Refuse to fork children from a process that holds the checks or the solutions in memory."""
    bad = [m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    if bad:
        raise RuntimeError(f"refusing to fork: grader-only modules are loaded: {bad}")


def _preload(exercise: str, extra: list[str]) -> dict:
    for name in STDLIB:
        importlib.import_module(name)
    import numpy  # noqa: F401 - loaded once here, shared by every child

    import autograder.loading  # noqa: F401
    from autograder.probes import probes_for

    for name in extra:
        importlib.import_module(name)
    return probes_for(exercise)


def _public_packages() -> list[str]:
    """Folders of packages a child may import lazily although they live in the hidden repository.

    `cnnexercises` is what students import themselves (datasets, plotting, distribute): the
    probes of the Keras exercises use it. Nothing in it is secret.
    """
    spec = importlib.util.find_spec("cnnexercises")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [os.path.realpath(p) for p in spec.submodule_search_locations]


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) > 1 and int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _detect(config: dict) -> tuple[dict, list[str]]:
    """Which protections this machine allows, and what is missing (in words)."""
    from autograder.isolation import landlock

    root = os.geteuid() == 0
    found = {"root": root, "mounts": False, "landlock": 0, "seccomp": False}
    missing = []
    if config.get("seccomp", True):
        from autograder.isolation import seccomp

        found["seccomp"] = seccomp.supported()
        if not found["seccomp"]:
            missing.append("seccomp (this machine's architecture is not one the filter knows)")
    if config.get("landlock", True):
        abi = landlock.abi_version()
        if abi >= 1:
            try:
                os.close(landlock.Ruleset(abi).fd)
                found["landlock"] = abi
            except OSError:
                abi = 0
        if not abi:
            missing.append("Landlock (kernel ≥ 5.13 with Landlock enabled)")
    if root and config.get("mounts", True):
        pid = os.fork()
        if pid == 0:
            try:
                sandbox._unshare(sandbox.NAMESPACES)
                sandbox._mount("none", "/", None, sandbox.MS_REC | sandbox.MS_PRIVATE)
                os._exit(0)
            except BaseException:
                os._exit(1)
        found["mounts"] = os.waitpid(pid, 0)[1] == 0
        if not found["mounts"]:
            missing.append("mount/network/IPC/PID namespaces (need CAP_SYS_ADMIN)")
    elif not root:
        missing.append("a separate user and private mounts (run as root for those)")
    if not found["mounts"] and not found["landlock"]:
        who = "any user" if root else "your user"
        missing.append(
            f"nothing hides grader files readable by {who} from the student's code: make the "
            "repository, solutions and submissions unreadable to others (chmod -R o-rwx)"
        )
    return found, missing


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[1]))
    config = json.loads(control.recv(_MAX_CONTROL))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # the grader stops us by closing the socket
    try:
        sandbox.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
        sandbox.prctl(sandbox.PR_SET_CHILD_SUBREAPER, 1)
        sandbox.prctl(sandbox.PR_SET_DUMPABLE, 0)
        probes = _preload(config["exercise"], config.get("preload", []))
        from autograder.isolation import child  # noqa: F401 - imported before forking, like the rest

        _check_clean()
        found, missing = _detect(config)
        uid, lock = (None, None)
        if found["root"] and config.get("user", True):
            uid, lock = sandbox.claim_uid()
            sandbox.kill_user(uid)  # leftovers of a grader that was killed
        base = tempfile.mkdtemp(prefix="cnnex-zygote-")
        os.chmod(base, 0o711)
    except Exception as err:
        control.send(json.dumps({"error": f"{type(err).__name__}: {err}"}).encode())
        return
    hide = [h for h in config.get("hide", []) if h]
    keep = sandbox.interpreter_trees(exclude=hide + [base]) + _public_packages()
    stage = os.path.join(base, "stage")
    os.mkdir(stage, 0o700)
    protections = ["separate process per submission, killed with everything it started"]
    if uid is not None:
        protections.append(f"unprivileged user uid {uid}")
    if found["mounts"]:
        protections.append("private mounts: grader folders hidden, / read-only, no network, own IPC and PID namespaces")
    if found["seccomp"]:
        protections.append("seccomp: no UNIX sockets, no kernel keys")
    if found["landlock"]:
        protections.append(f"Landlock ABI {found['landlock']}: reads only interpreter and system folders")
    control.send(json.dumps(
        {"pid": os.getpid(), "uid": uid, "protections": protections, "missing": missing}
    ).encode())

    count = 0
    workdirs: dict[int, str] = {}
    try:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(control, _MAX_CONTROL, 4)
            except OSError:
                break
            if not data:
                break
            request = json.loads(data)
            if request["op"] == "spawn":
                count += 1
                workdir = os.path.join(base, f"w{count}")
                os.mkdir(workdir, 0o700)
                plan = sandbox.Plan(
                    workdir=workdir,
                    uid=uid,
                    memory_mb=request["memory_mb"],
                    cpu_seconds=request["cpu_seconds"],
                    max_processes=request["max_processes"],
                    max_file_mb=request["max_file_mb"],
                    hide=hide,
                    keep=keep,
                    mounts=found["mounts"],
                    landlock=found["landlock"],
                    seccomp=found["seccomp"],
                )
                try:
                    _check_clean()
                    pid = os.fork()
                except (RuntimeError, OSError) as err:
                    for fd in fds:
                        os.close(fd)
                    control.send(json.dumps({"error": f"cannot start a child: {err}"}).encode())
                    continue
                if pid == 0:
                    try:
                        control.close()
                        if lock is not None:
                            lock.close()
                        sock = socket.socket(fileno=fds[0])
                        os.setsid()
                        child.run(sock, plan, stage, config["exercise"], probes)
                    finally:
                        os._exit(70)
                for fd in fds:
                    os.close(fd)
                workdirs[pid] = workdir
                control.send(json.dumps({"pid": pid}).encode())
            elif request["op"] == "finish":
                pid = int(request["pid"])
                reply = _finish(pid, float(request.get("grace", 0)), uid)
                _remove(workdirs.pop(pid, None))
                control.send(json.dumps(reply).encode())
    finally:
        for pid in list(workdirs):
            _finish(pid, 0.0, uid)
            _remove(workdirs.pop(pid))
        shutil.rmtree(base, ignore_errors=True)


def _finish(pid: int, grace: float, uid: int | None) -> dict:
    """Wait up to `grace` s for child `pid`, then kill it, its group and all that it started."""
    status, killed = None, False
    end = time.monotonic() + grace
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, None
        if done:
            break
        if time.monotonic() >= end:
            killed = True
            for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    target()
                except OSError:
                    pass
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    if uid is not None:
        sandbox.kill_user(uid)
    for _ in range(1000):  # orphans are re-parented to us (subreaper): kill until none is left
        kids = _children(os.getpid())
        if not kids:
            break
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.002)
        _reap()
    _reap()
    reply: dict = {"killed": killed}
    if status is not None and os.WIFSIGNALED(status):
        reply["signal"] = os.WTERMSIG(status)
    elif status is not None:
        reply["code"] = os.WEXITSTATUS(status)
    return reply


def _remove(workdir: str | None) -> None:
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv)
