"""Running a submission in a separate, limited process for batch grading.

- `protocol`: the wire format (JSON + `.npy` arrays, never pickle) and its limits.
- `sandbox`: what confines a child (namespaces, limits, unprivileged user, Landlock).
- `landlock`: the Landlock system calls.
- `zygote_server`: a clean preloaded process that forks one sandboxed child per submission.
- `zygote`: the grader's handle on that process.
- `child`: what runs in the child (load the file, answer calls).
- `proxy`: `IsolatedStudent`, the student as the trusted grader's checks see it.
- `measuring`: a submission's kept builds and measuring child, for the staged probes.

This package's `__init__` imports nothing, so the zygote's memory holds only what it needs.
"""
