"""The measuring side of one submission's staged probes (see `autograder.probes`).

A staged probe builds in the student's child, which saves the models, and measures them
in a child of the zygote that never loaded the submission. `Measurer` does that for one
submission at the cost of one build per distinct model and one measuring child:

- **Builds are kept.** What a build produced (its plain data and the saved `.keras`
  bytes) is kept, keyed by the building function and its parameters: a model that five
  checks describe is built and saved once. A build made by a child that had already run
  a hidden check is used by hidden checks only: a public check never sees a model that a
  hidden input could have shaped (as it never sees that child).
- **One measuring child.** Consecutive measurements go to one child, started on the first,
  so its start (a fork, the backend's runtime) is paid once per run of measurements. It
  only ever receives saved models and the probes' parameters; it is ended (and the next
  measurement starts a fresh one) when it timed out, died or sent garbage, before a public
  check once it has measured for a hidden one, and before the student's child starts again:
  the zygote runs one child at a time (ending a child kills whatever its user still runs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import time

from autograder.outcomes import ERROR, Unavailable
from autograder.errors import GraderError
from autograder.isolation import protocol

@dataclasses.dataclass
class Built:
    """What one build produced: its plain data, the saved models (`.keras` bytes as uint8
    arrays), and whether the child that built it had run a hidden check."""

    built: dict
    models: dict
    after_hidden: bool


def build_key(stage, tree: dict, blobs: list[bytes]) -> str:
    """A key for a build: the building function and its encoded parameters."""
    digest = hashlib.sha256(f"{stage.build.__module__}.{stage.build.__qualname__}".encode())
    digest.update(json.dumps(tree, sort_keys=True).encode())
    for blob in blobs:
        digest.update(len(blob).to_bytes(8, "little"))
        digest.update(blob)
    return digest.hexdigest()


class Measurer:
    """Kept builds and the measuring child of one submission.

    Args:
        zygote: the server that forks children.
        budget: the submission's `Budget` (memory, processes, time per check).
        checks: how many checks the exercise has (the measuring child's CPU time is
            bounded by one time limit per check).
        limits: what a measuring reply may hold.
    """

    def __init__(self, zygote, budget, checks: int, limits: protocol.Limits):
        self._zygote = zygote
        self._limits = limits
        self._budget = budget
        self._checks = checks
        self._builds: dict[str, Built] = {}
        self._pid: int | None = None
        self._sock = None
        self._after_hidden = False  # the measuring child has measured for a hidden check
        self.failure: GraderError | None = None  # the grader itself failed: the results are void

    def built(self, key: str, hidden: bool) -> Built | None:
        """The kept build for `key`, if one may be used by a check that is `hidden` or not."""
        kept = self._builds.get(key)
        if kept is None or (kept.after_hidden and not hidden):
            return None
        return kept

    def keep(self, key: str, built: dict, models: dict, after_hidden: bool) -> Built:
        kept = Built(built, models, after_hidden)
        if key not in self._builds or not after_hidden:
            self._builds[key] = kept
        return kept

    def measure(self, name: str, params: dict, kept: Built, hidden: bool, deadline: float):
        """Measure the kept models with the probe `name`'s measuring half; `(reply, arrays)`.

        Args:
            deadline: `time.monotonic()` by which the reply must have come.

        Raises:
            protocol.Deadline: it did not finish in time (the measuring child is ended).
            Unavailable: the measuring failed (not the student's doing, or a model that
                makes the backend crash); the grader's own failure is also kept in `failure`.
        """
        subject = f"measuring your model ({name})"
        if self._after_hidden and not hidden:
            self.close()
        try:
            sock = self._child(time.monotonic() + 30, deadline)
        except GraderError as err:
            self.failure = self.failure or err
            raise Unavailable(ERROR, f"the grader failed while {subject}: {err}") from None
        self._after_hidden = self._after_hidden or hidden
        blobs: list[bytes] = []
        doc = {"op": "measure", "name": name, "id": secrets.token_hex(8),
               "params": protocol.encode(dict(params), blobs), "built": protocol.encode(kept.built, blobs),
               "models": protocol.encode(kept.models, blobs)}
        try:
            protocol.send(sock, doc, blobs, deadline)
            reply, out = protocol.receive(sock, self._limits, deadline)
            if reply.get("id") != doc["id"]:
                raise protocol.ProtocolError("a reply to another request")
        except protocol.Deadline:
            self.close()
            raise
        except (protocol.PeerGone, protocol.ProtocolError) as err:
            self.close()
            raise Unavailable(ERROR, f"{subject} failed ({type(err).__name__}).") from None
        if "value" not in reply:
            self.close()  # it raised: whatever it was left in, the next measurement starts afresh
        return reply, out

    def _child(self, ready_by: float, deadline: float):
        """The measuring child's socket, started (and ready by `ready_by`) if it was not running.

        Raises:
            protocol.Deadline: `deadline` (the measurement's) came first.
            GraderError: the child did not start.
        """
        if self._sock is not None:
            return self._sock
        cpu = int(self._budget.timeout * (self._checks + 1)) + 30
        pid, sock = self._zygote.spawn(self._budget.memory_mb, cpu, self._budget.max_processes,
                                       self._budget.max_file_mb)
        self._pid, self._sock, self._after_hidden = pid, sock, False
        try:
            ready, _ = protocol.receive(sock, protocol.Limits(max_bytes=2**20), min(ready_by, deadline))
        except (protocol.Deadline, protocol.PeerGone, protocol.ProtocolError) as err:
            self.close()
            if isinstance(err, protocol.Deadline) and deadline <= ready_by:
                raise
            raise GraderError(f"the measuring process did not start ({type(err).__name__})") from None
        if "ready" not in ready:
            self.close()
            raise GraderError(str(ready.get("fatal", "the measuring process did not start"))[:300])
        return sock

    def close(self) -> None:
        """End the measuring child (the kept builds stay)."""
        pid, sock = self._pid, self._sock
        self._pid = self._sock = None
        if sock is not None:
            sock.close()
        if pid is not None:
            try:
                self._zygote.finish(pid)
            except GraderError as err:
                self.failure = self.failure or err
