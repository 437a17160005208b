"""What grading an exercise costs and needs: limits, preloading, the oracle.

Each exercise declares its `Resources` (`Exercise(..., resources=KERAS)`); every part of the
grader that used to ask "is this a Keras exercise?" reads the one field it needs instead:

    cnnex grade        timeout, memory_mb, jobs, budget (its options override them)
    the sandbox        max_processes, max_file_mb, preload (what the zygote imports once)
    nbgrader notebooks quiet_tensorflow (the lines that keep TensorFlow's logs off stderr)
    reference lookup   oracle (recorded answers replay the reference where it is missing)
"""

from __future__ import annotations

import dataclasses
import os

RECORDED = "recorded"  # the public checks compare with the reference's answers, recorded by `cnnex release`
BEHAVIOUR = "behaviour"  # the checks measure what the student's code does and never call the reference
ORACLES = (RECORDED, BEHAVIOUR)


@dataclasses.dataclass(frozen=True)
class Resources:
    """Limits and needs of one exercise; the defaults are a NumPy exercise's.

    Attributes:
        timeout: seconds each check may wait for the student's code.
        memory_mb: memory the student's code may allocate.
        max_processes: processes and threads of the sandboxed child's user (root only).
        max_file_mb: the largest file the child may write.
        budget: seconds one submission may take in all; past it its remaining checks
            report TIMEOUT at once.
        jobs: submissions graded at the same time; None: one per CPU.
        preload: modules the zygote imports once, before it forks a child per submission.
        quiet_tensorflow: notebooks switch TensorFlow's log lines off before any import.
        oracle: `"recorded"` (the reference, or its recorded answers to the public checks
            where `solutions/` is not shipped) or `"behaviour"` (the checks never call the
            reference: nothing needs recording).

    Raises:
        ValueError: a limit is not positive, or an unknown oracle.
    """

    timeout: float = 10.0
    memory_mb: int = 1024
    max_processes: int = 64
    max_file_mb: int = 64
    budget: float = 60.0
    jobs: int | None = None
    preload: tuple[str, ...] = ()
    quiet_tensorflow: bool = False
    oracle: str = RECORDED

    def __post_init__(self):
        for name in ("timeout", "memory_mb", "max_processes", "max_file_mb", "budget"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"`{name}` must be positive. Received: {name}={value!r}")
        if self.jobs is not None and self.jobs < 1:
            raise ValueError(f"`jobs` must be at least 1 or None (one per CPU). Received: jobs={self.jobs!r}")
        if self.oracle not in ORACLES:
            raise ValueError(f"`oracle` must be one of {ORACLES}. Received: oracle={self.oracle!r}")
        object.__setattr__(self, "preload", tuple(self.preload))

    @property
    def default_jobs(self) -> int:
        """`jobs`, or the number of CPUs when it is None."""
        return self.jobs or os.cpu_count() or 1


NUMPY = Resources()
KERAS = Resources(
    timeout=300.0,
    memory_mb=4096,
    max_processes=512,  # TensorFlow's thread pools count
    max_file_mb=256,  # a saved model
    budget=1200.0,
    jobs=1,  # training uses every core already
    preload=("keras",),
    quiet_tensorflow=True,
    oracle=BEHAVIOUR,
)
