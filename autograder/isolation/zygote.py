"""The grader's handle on the zygote: start it, ask it for sandboxed children, end them.

The zygote itself (`autograder.isolation.zygote_server`) is a fresh interpreter started
with `python -m autograder.isolation.zygote_server FD` and a clean environment, so it
shares no memory with the grader. The handle tells it the exercise and what children must
not see, then sends JSON control messages over a `SOCK_SEQPACKET` socket; a spawn request
carries the child's end of a fresh socket pair (SCM_RIGHTS), over which the grader then
talks to the child directly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from autograder.errors import GraderError

_MAX_CONTROL = 1 << 16  # the largest control message, both ways


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
# the locale and Keras' backend. Nothing else (tokens, keys, passwords) ever reaches the
# zygote's memory, so no child forked from it can find any of it.
KEPT_ENVIRONMENT = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "HOME", "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
    "KERAS_BACKEND", "KERAS_HOME", "CNNEX_GRADE_UID", "CNNEX_GRADE_DEBUG",
    "CNNEX_EXERCISES",  # plug-in folders: the zygote imports their probes
)  # fmt: skip
# Sandboxed children compute on the CPU: a GPU driver maps far more address space than a
# child's memory limit allows and opens device files the sandbox hides, so a child must not
# try it. Grading's models are small (see `sandbox.runtime_reserve_mb` for the CPU runtimes).
CPU_ONLY = {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}


def clean_environment() -> dict[str, str]:
    """The environment the zygote is started with: `KEPT_ENVIRONMENT` only, and `CPU_ONLY`."""
    return {**{k: os.environ[k] for k in KEPT_ENVIRONMENT if k in os.environ}, **CPU_ONLY}


class Zygote:
    """Start a zygote and ask it for sandboxed children.

    Args:
        exercise: the exercise's full name; its probes module is preloaded.
        hide: paths children must not see (repository, solutions, output, submissions).
        preload: extra modules to import before forking.
        mounts, user, landlock: which protections to use when available (all by default).
        start_timeout: seconds to wait for the zygote's imports (Keras takes a while).
        threads: threads each child's TensorFlow may use for one operation and for
            operations side by side (None: TensorFlow's default, one per CPU); a batch of
            `jobs` gradings on `n` CPUs gives each `n // jobs`.

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
        threads: int | None = None,
    ):
        self.exercise = exercise
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = clean_environment()
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3")
        grader, checkout = grader_paths()
        if checkout:  # running from a clone that is not installed: the zygote must import it too
            env["PYTHONPATH"] = os.pathsep.join(p for p in (checkout, env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.isolation.zygote_server", str(theirs.fileno())],
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
            "threads": threads,
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
