"""The student, as the trusted grader sees it: a proxy that forwards calls to a sandboxed child.

`IsolatedStudent` implements the engine's `Student` contract (`autograder.student`:
`defines`, `call`, `run_probe`, `begin_check`, `problems`, `memo`), so the same
`run_checks` grades a submission in-process or isolated. Attribute access
(`student.conv2d(...)`) forwards calls too, for direct use.

Time limits are per check: `begin_check` restarts the budget at the beginning of each
check; only time spent waiting for the child counts. A function that times
out, runs out of memory or crashes the child costs its time limit once: the child is
killed, the function's other checks get the same status at once (without running it
again), and the next function starts a fresh child (the file is loaded again). Garbage
sent back costs that check only. A file whose *loading* hangs or kills the child fails
every check at once, after one time limit. A submission's time in all is bounded too
(`Budget.submission`, the exercise's `Resources.budget`): once it is spent, the check
running is stopped and every later one reports TIMEOUT at once, saying so.
"""

from __future__ import annotations

import dataclasses
import secrets
import time

import numpy as np

from autograder.checks import Check, Exercise
from autograder.errors import GraderError
from autograder.isolation import protocol
from autograder.isolation.measuring import Measurer, build_key
from autograder.isolation.zygote import ExitInfo, Zygote
from autograder.outcomes import CRASHED, ERROR, MEMORY, TIMEOUT, ArgumentModified, StudentError, Unavailable
from autograder.student import Student

FAULTS = (TIMEOUT, MEMORY, CRASHED)  # a function that ended its child so is not run again
REPLIES = protocol.Limits(max_bytes=80 * 2**20, max_elements=2**24, max_json=4 * 2**20, max_text=64 * 2**10)
BUILT = dataclasses.replace(REPLIES, max_bytes=300 * 2**20, max_elements=300 * 2**20)  # saved models
FIRST_REPLY = protocol.Limits(max_bytes=2**20, max_blobs=0, max_nodes=1000, max_text=8000)


@dataclasses.dataclass
class Budget:
    """Limits for one submission.

    Attributes:
        timeout: seconds per check (waiting for the child only).
        load_timeout: seconds to load the file.
        memory_mb: memory the student's code may allocate.
        max_processes: processes and threads of the child's user (root only).
        max_file_mb: the largest file the child may write (a saved model, for Keras).
        submission: seconds the whole submission may take, loading included (None: no bound).
    """

    timeout: float = 10.0
    load_timeout: float = 10.0
    memory_mb: int = 1024
    max_processes: int = 64
    max_file_mb: int = 64
    submission: float | None = None


class _Forward:
    """A student function: calling it runs it in the child."""

    def __init__(self, student: "IsolatedStudent", name: str):
        self._student = student
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        return self._student.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<isolated function {self.__name__}>"


class IsolatedStudent(Student):
    """A submission loaded in a sandboxed child.

    Args:
        zygote: the server that forks children.
        exercise: the `Exercise` (its function names).
        filename: the submission's file name (kept for messages: "alice.py, line 3").
        source: the file's bytes.
        budget: time and memory limits.

    Attributes:
        problems: what went wrong while loading the file.
        memo: what checks computed once for this submission (`Context.memo`).
        policy: function -> message, for the functions that break the exercise's policy.
        unreadable: why the file cannot be read at all (empty, binary, too deeply nested), or None.
        sandbox: the protections the child reported having applied (before any student code ran).
    """

    def __init__(self, zygote: Zygote, exercise: Exercise, filename: str, source: bytes, budget: Budget):
        self._zygote = zygote
        self._exercise = exercise
        self._filename = filename
        self._source = source
        self._budget = budget
        self._left = budget.timeout
        self._ends = None if budget.submission is None else time.monotonic() + budget.submission
        self._spent: Unavailable | None = None  # the submission's budget ran out: every call fails at once
        self._pid: int | None = None
        self._sock = None
        self._broken: Unavailable | None = None  # loading failed: every call fails at once
        self._faults: dict[str, Unavailable] = {}  # function -> its TIMEOUT/MEMORY/CRASHED verdict
        self._callables: set[str] = set()
        self.problems: list[str] = []
        self.memo: dict = {}
        self.policy: dict[str, str] | None = None
        self.functions: dict[str, str] = {}  # anonymised sources, for the class report
        self.unreadable: str | None = None
        self.sandbox: list[str] = []
        self.spawns = 0
        self._saw_hidden = False  # the current child has run a hidden check
        self.failure: GraderError | None = None  # the grader itself failed: the results are void
        self._measurer = Measurer(zygote, budget, len(exercise.checks), REPLIES)
        self._start()

    # -- the contract ----------------------------------------------------------------

    def defines(self, function: str) -> bool:
        """True when the loaded file defines `function` (when loading failed: each contract function,
        so that its checks report why)."""
        return function in self._callables or (self._broken is not None and function in self._exercise.functions)

    def __getattr__(self, name: str):
        if not name.startswith("_") and self.defines(name):
            return _Forward(self, name)
        raise AttributeError(name)

    def call(self, function: str, args: tuple, kwargs: dict):
        """Run the student's `function(*args, **kwargs)` in the child and return its plain result."""
        blobs: list[bytes] = []
        doc = {
            "op": "call",
            "function": function,
            "args": protocol.encode(tuple(args), blobs),
            "kwargs": protocol.encode(dict(kwargs), blobs),
        }
        return self._answer(function, doc, blobs)

    def run_probe(self, name: str, params: dict):
        """Run the exercise's probe `name` with `params`; return its plain data.

        A staged probe builds in the student's child, which is then ended, and measures
        in a child that never loaded the submission (see `autograder.probes`); each
        distinct build happens once per submission (`autograder.isolation.measuring`).
        """
        stage = getattr(self._exercise.probes.get(name), "stage", None)
        blobs: list[bytes] = []
        if stage is None:
            doc = {"op": "probe", "name": name, "params": protocol.encode(dict(params), blobs)}
            return self._answer(f"probe {name}", doc, blobs)
        wanted = {k: v for k, v in params.items() if k in stage.build_params}
        doc = {"op": "build", "name": name, "params": protocol.encode(wanted, blobs)}
        key = build_key(stage, doc["params"], blobs)
        kept = self._measurer.built(key, self._saw_hidden)
        if kept is None:
            reply = self._answer(f"probe {name}", doc, blobs, BUILT)
            if not (isinstance(reply, dict) and isinstance(reply.get("built"), dict)
                    and isinstance(reply.get("models"), dict)):
                return reply  # the student's error, or not a model: plain data for the check
            models = {str(k): v for k, v in reply["models"].items()
                      if isinstance(v, np.ndarray) and v.dtype == np.uint8 and v.ndim == 1}
            kept = self._measurer.keep(key, reply["built"], models, self._saw_hidden)
        self._end_child()  # nothing of the student's runs while the models are measured
        subject = f"measuring your model ({name})"
        deadline = self._within_budget(time.monotonic() + 30 + self._budget.timeout)
        try:
            reply, out = self._measurer.measure(name, params, kept, self._saw_hidden, deadline)
        except protocol.Deadline:
            raise self._out_of_budget(subject) or Unavailable(
                TIMEOUT, f"{subject} did not finish within {self._budget.timeout:g} s.") from None
        finally:
            self.failure = self.failure or self._measurer.failure
        return self._read(f"probe {name}", reply, out)

    # -- checks --------------------------------------------------------------------------

    def begin_check(self, check: Check) -> None:
        """Restart this student's time budget at the beginning of `check`.

        A public check that follows a hidden one also gets a fresh child: whatever the
        student's code kept from a hidden check's inputs (module state, files) is gone
        before anything it does can be shown.
        """
        if not check.hidden and self._saw_hidden:
            self._fresh()
        self._saw_hidden = self._saw_hidden or check.hidden
        self._left = self._budget.timeout

    def _fresh(self) -> None:
        """End the child before a public check (the next call forks a new one and loads the file again)."""
        self._saw_hidden = False
        self.memo.clear()  # nothing a hidden check computed reaches a public one
        self._end_child()

    def _end_child(self) -> None:
        if self._pid is not None:
            try:
                self._stop()
            except GraderError as err:
                self.failure = self.failure or err

    # -- the child -------------------------------------------------------------------------

    def _start(self) -> None:
        """Fork a child and load the file in it; loading problems become `problems`."""
        self._measurer.close()  # the zygote runs one child at a time: ending one ends all it left
        self.failure = self.failure or self._measurer.failure
        self.spawns += 1
        cpu = int(self._budget.timeout * (len(self._exercise.checks) + 2) + self._budget.load_timeout) + 5
        self._pid, self._sock = self._zygote.spawn(self._budget.memory_mb, cpu, self._budget.max_processes,
                                                   self._budget.max_file_mb)
        deadline = time.monotonic() + 30
        try:
            ready, _ = protocol.receive(self._sock, protocol.Limits(max_bytes=2**20), deadline)
        except (protocol.Deadline, protocol.PeerGone, protocol.ProtocolError) as err:
            info = self._stop()
            raise GraderError(f"the sandboxed process did not start ({info.describe()}): {err}") from None
        if "fatal" in ready:
            self._stop()
            raise GraderError(str(ready["fatal"]))
        self.sandbox = [str(s) for s in ready.get("ready", [])]
        nonce = secrets.token_hex(8)
        deadline = self._within_budget(time.monotonic() + self._budget.load_timeout)
        request = {"op": "load", "name": self._filename, "id": nonce,
                   "functions": list(self._exercise.functions), "numpy_only": list(self._exercise.numpy_only)}
        try:
            protocol.send(self._sock, request, [self._source], deadline)
            first, _ = protocol.receive(self._sock, FIRST_REPLY, deadline)
            if first.get("id") != nonce:
                raise protocol.ProtocolError("a reply to another request")
            self._examined(first)
            if self.unreadable is not None:
                self._stop()
                self._broken = Unavailable(ERROR, self.unreadable)
                self.problems = [self.unreadable]
                return
            doc, _ = protocol.receive(self._sock, REPLIES, deadline)
            if doc.get("id") != nonce:
                raise protocol.ProtocolError("a reply to another request")
            problems, names = doc.get("problems"), doc.get("callables")
            if type(problems) is not list or type(names) is not list:
                raise protocol.ProtocolError("a malformed load reply")
        except protocol.Deadline:
            self._stop()
            self._broken = self._out_of_budget("loading your file") or Unavailable(
                TIMEOUT,
                f"loading your file did not finish within {self._budget.load_timeout:g} s. Code that runs "
                "when the file is loaded (class bodies, default argument values, decorators) must not "
                "loop or wait.",
            )
        except protocol.PeerGone:
            info = self._stop(grace=1.0)
            self._broken = _gone("the process loading your file", info, self._budget.memory_mb)
        except protocol.ProtocolError as err:
            self._stop()
            self._broken = Unavailable(ERROR, f"loading your file sent back garbage ({err})")
        else:
            self.problems = [str(p)[:2000] for p in problems[:100]]
            self._callables = {str(n) for n in names}
            return
        self.problems = [self._broken.message]

    def _examined(self, first: dict) -> None:
        """Keep the policy (or the reason the file cannot be read) from the child's first reply.

        The child decided it from the source before running any of the student's code; it
        is still read as untrusted data: only the exercise's functions, bounded text.
        """
        if self.policy is not None or self.unreadable is not None:
            return  # a respawn: the first child's verdict stands
        if "unreadable" in first:
            self.unreadable = str(first["unreadable"])[:4000]
            return
        policy = first.get("policy")
        if type(policy) is not dict:
            raise protocol.ProtocolError("a malformed policy reply")
        self.policy = {f: str(policy[f])[:4000] for f in self._exercise.functions if type(policy.get(f)) is str}
        sources = first.get("functions")
        if type(sources) is dict:
            self.functions = {
                f: str(sources[f])[:4000] for f in self._exercise.functions if type(sources.get(f)) is str
            }

    def _stop(self, grace: float = 0.0) -> ExitInfo:
        pid, sock = self._pid, self._sock
        self._pid = self._sock = None
        if sock is not None:
            sock.close()
        if pid is None:
            return ExitInfo()
        return self._zygote.finish(pid, grace)

    def close(self) -> None:
        """Kill the children and everything they started."""
        self._measurer.close()
        self.failure = self.failure or self._measurer.failure
        self._end_child()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _answer(self, function: str, doc: dict, blobs: list[bytes], limits: protocol.Limits | None = None):
        fault = self._spent or self._out_of_budget() or self._faults.get(function)
        if fault is not None:  # it already timed out, ran out of memory or crashed: once is enough
            raise fault
        try:
            return self._exchange(function, doc, blobs, limits or REPLIES)
        except GraderError as err:  # the zygote failed: not the student's doing
            self.failure = self.failure or err
            raise Unavailable(ERROR, f"the grader failed while running `{function}`: {err}") from None
        except Unavailable as gone:
            if gone.status in FAULTS and self._pid is None:  # it had to end the child
                self._faults[function] = Unavailable(
                    gone.status,
                    f"not run: an earlier check of `{function}` ended with {gone.status} "
                    f"({gone.message}) Each fault costs the time limit once, so the other checks of "
                    f"`{function}` get the same status without running it again.",
                )
            raise

    def _exchange(self, function: str, doc: dict, blobs: list[bytes], limits: protocol.Limits):
        if self._broken is not None:
            raise self._broken
        if self._pid is None:
            self._start()
            if self._broken is not None:
                raise self._broken
        nonce = secrets.token_hex(8)
        doc["id"] = nonce
        started = time.monotonic()
        deadline = self._within_budget(started + max(self._left, 0.0))
        try:
            protocol.send(self._sock, doc, blobs, deadline)
            reply, out = protocol.receive(self._sock, limits, deadline)
            if reply.get("id") != nonce:
                raise protocol.ProtocolError("a reply to another request")
        except protocol.Deadline:
            self._stop()
            raise self._out_of_budget(f"`{function}`") or Unavailable(
                TIMEOUT,
                f"`{function}` did not finish within {self._budget.timeout:g} s (the time limit per check). "
                "Look for a loop that never ends or much more work than the inputs need.",
            ) from None
        except protocol.PeerGone:
            info = self._stop(grace=1.0)
            raise _gone(f"the process running `{function}`", info, self._budget.memory_mb) from None
        except protocol.ProtocolError as err:
            self._stop()
            raise Unavailable(ERROR, f"`{function}` sent back something that is not plain data ({err}).") from None
        finally:
            self._left -= time.monotonic() - started
        return self._read(function, reply, out, limits)

    def _within_budget(self, deadline: float) -> float:
        """`deadline`, or the end of the submission's budget when that comes first."""
        return deadline if self._ends is None else min(deadline, self._ends)

    def _out_of_budget(self, running: str = "") -> Unavailable | None:
        """The TIMEOUT every check gets once the submission's budget is spent (None while it lasts).

        Args:
            running: what was stopped when the budget ran out ("`conv2d`"), for its own message.
        """
        if self._spent is None and self._ends is not None and time.monotonic() >= self._ends:
            self._end_child()
            total = f"{self._budget.submission:g} s"
            self._spent = Unavailable(
                TIMEOUT,
                f"not run: this submission's time budget ({total} for all its checks) was spent. "
                "Each check may take the time limit, but the whole file only its budget: look for "
                "functions much slower than their inputs need (loops that wait, sleep or repeat work).",
            )
            if running:
                return Unavailable(
                    TIMEOUT,
                    f"{running} was stopped: this submission's time budget ({total} for all its checks) "
                    "ran out while it ran. Every check after it reports TIMEOUT without running.",
                )
        return self._spent

    def _read(self, function: str, reply: dict, out: list, limits: protocol.Limits = REPLIES):
        try:
            if "value" in reply:
                return protocol.values(reply["value"], out, limits)
        except protocol.ProtocolError as err:
            self._stop()
            raise Unavailable(ERROR, f"`{function}` returned something that is not plain data ({err}).") from None
        if "modified" in reply:
            raise ArgumentModified(function, str(reply["modified"])[:100])
        if "unsendable" in reply:
            raise Unavailable(ERROR, f"`{function}` ran, but {str(reply['unsendable'])[:300]}.")
        raised = reply.get("raised")
        if type(raised) is dict:
            kind = str(raised.get("type", "Exception"))[:200]
            message = str(raised.get("message", ""))[:4000]
            if kind == "MemoryError":
                self._stop()
                raise Unavailable(
                    MEMORY,
                    f"`{function}` ran out of memory (limit {self._budget.memory_mb} MB). "
                    "Look for arrays much larger than the inputs.",
                )
            if kind == "SystemExit":
                raise Unavailable(
                    CRASHED,
                    f"`{function}` called exit() (SystemExit: {message[:100]}). A function must return "
                    "its result; it may not end the program.",
                )
            name = str(raised.get("function", function))[:200]
            raise StudentError(name, kind, message, str(raised.get("where", ""))[:400])
        self._stop()
        raise Unavailable(ERROR, f"`{function}`: the sandboxed process sent a reply the grader does not understand.")


def _gone(subject: str, info: ExitInfo, memory_mb: int) -> Unavailable:
    """The verdict when the child died on its own; `subject` is "the process running `conv2d`"."""
    if info.killed_by_grader:
        return Unavailable(CRASHED, f"{subject} closed its connection to the grader.")
    if info.signal == 9:
        return Unavailable(
            MEMORY, f"{subject} was killed by the system, most likely for using too much memory (limit {memory_mb} MB)."
        )
    if info.signal == 24:  # SIGXCPU
        return Unavailable(TIMEOUT, f"{subject} used more CPU time than the whole submission may.")
    hint = ""
    if info.signal is None:
        hint = " Does your code call os._exit()? A function must return its result."
    elif info.signal == 11:
        hint = " This happens when native code (ctypes, a C extension) reads memory it does not own."
    return Unavailable(CRASHED, f"{subject} {info.describe()}.{hint}")
