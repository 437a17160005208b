"""Confinement of a child process before it runs a student's code.

`confine(plan)` runs in the freshly forked child, in this order:

1. (root) a private mount namespace and a private network namespace (no network):
   the interpreter's folders are made reachable even when an ancestor such as `/root`
   is mode 700 (a tmpfs replaces the ancestor and the interpreter is bind-mounted back
   into it); the grader's folders (the repository with `solutions/` and the checks,
   the output folder, the submissions) are covered by empty read-only mounts; `/dev/shm`
   and the work folder are small private tmpfs; `/` is read-only.
2. resource limits: address space (`memory_mb` above what the process already maps),
   CPU seconds, processes, file size, no core dumps, open files.
3. (root) the child becomes an unprivileged user of its own (`setgroups([])`, `setgid`,
   `setuid`): it loses every capability and cannot read 0600/0700 files of the grader.
4. Landlock, where the kernel has it (no privileges needed): reading is allowed only in
   the interpreter's trees and system folders, writing only in the work folder; no TCP,
   no signals to processes outside the sandbox. `PR_SET_NO_NEW_PRIVS` is set.
5. `PR_SET_PDEATHSIG`: the child is killed when its server dies.

What cannot be done (not root, no Landlock) is left out and reported, never faked.
"""

from __future__ import annotations

import ctypes
import dataclasses
import fcntl
import os
import pwd
import resource
import signal
import stat
import sys

from autograder.isolation import landlock, seccomp

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
NAMESPACES = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36

UID_BASE = 60100  # Debian's "allocated on demand" range; override with CNNEX_GRADE_UID
UID_COUNT = 400
SYSTEM_TREES = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc")

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(Exception):
    """A protection that was planned could not be applied (the child refuses to run)."""


@dataclasses.dataclass
class Plan:
    """How one child is confined. Plain data, built by the server.

    Attributes:
        workdir: the child's only writable folder (its current directory and $TMPDIR).
        uid: the unprivileged user the child becomes (root only), else None.
        memory_mb: address space the student's code may add.
        cpu_seconds: CPU time of the whole child (a backstop; wall-clock limits are the parent's).
        max_processes: processes and threads the child's user may have (root only).
        max_file_mb: largest file the child may write.
        hide: folders and files the child must not see (the grader's).
        keep: folders the child must read (the interpreter and its packages).
        mounts: use a private mount and network namespace (needs root).
        landlock: the kernel's Landlock ABI to use (0: none).
        seccomp: install the seccomp filter (no UNIX sockets, no kernel keys).
    """

    workdir: str
    uid: int | None = None
    memory_mb: int = 1024
    cpu_seconds: int = 600
    max_processes: int = 64
    max_file_mb: int = 64
    hide: list[str] = dataclasses.field(default_factory=list)
    keep: list[str] = dataclasses.field(default_factory=list)
    mounts: bool = False
    landlock: int = 0
    seccomp: bool = False


# --------------------------------------------------------------------------- helpers


def prctl(option: int, value: int) -> None:
    if _libc.prctl(option, value, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def _unshare(flags: int) -> None:
    if _libc.unshare(ctypes.c_int(flags)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare: {os.strerror(err)}")


def _mount(source, target: str, fstype, flags: int, data=None) -> None:
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731 - local one-liner
    if _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def within(path: str, folder: str) -> bool:
    """True when `path` is `folder` or inside it (both real, absolute paths)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def interpreter_trees(exclude: list[str] = ()) -> list[str]:
    """The folders the child reads: the interpreter's prefixes and import path (real paths).

    `/`, the current folder and any folder that holds an `exclude`d path are left out, and
    so is an import-path folder inside an excluded one (`tests/` of the grader's checkout)
    unless it belongs to the interpreter: a virtual environment inside the checkout
    (`.venv/`) must stay readable, or the child's lazy imports fail.
    """
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    paths = list(prefixes) + [p for p in sys.path if p and os.path.isdir(p)]
    cwd = os.getcwd()
    real = {os.path.realpath(p) for p in paths}
    hidden = [os.path.realpath(e) for e in exclude]

    def readable(p: str) -> bool:
        if p in ("/", cwd) or any(within(e, p) for e in hidden):
            return False
        inside_hidden = any(within(p, e) for e in hidden)
        return not inside_hidden or any(within(p, prefix) for prefix in prefixes)

    real = {p for p in real if readable(p)}
    out: list[str] = []
    for p in sorted(real, key=len):
        if not any(within(p, q) for q in out):
            out.append(p)
    return out


def claim_uid() -> tuple[int, object]:
    """An unprivileged uid no other grading process uses, and the lock that holds it.

    Each server holds its own uid (from `CNNEX_GRADE_UID`, default 60100, upward; uids
    with a passwd entry are skipped), so children of different submissions can never
    signal, trace or read each other. The lock files live in a root-only folder.
    """
    base = int(os.environ.get("CNNEX_GRADE_UID", UID_BASE))
    folder = "/run/cnnex-grade" if os.path.isdir("/run") else "/tmp/cnnex-grade"
    os.makedirs(folder, mode=0o700, exist_ok=True)
    info = os.lstat(folder)
    if info.st_uid != 0 or stat.S_IMODE(info.st_mode) & 0o077 or not stat.S_ISDIR(info.st_mode):
        raise SandboxError(f"{folder} must be a folder owned by root with mode 700")
    for uid in range(base, base + UID_COUNT):
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        lock = open(os.path.join(folder, f"uid-{uid}.lock"), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        return uid, lock
    raise SandboxError(f"no free uid in {base}..{base + UID_COUNT - 1}")


def kill_user(uid: int) -> None:
    """SIGKILL every process of `uid` (root only): a helper becomes `uid` and calls kill(-1).

    The kernel signals them all at once, so a fork bomb cannot outrun it.
    """
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)


RESERVE_PER_CPU_MB = 384
RESERVE_MAX_CPUS = 16


def runtime_reserve_mb() -> int:
    """Address space added to the limit of a child in which TensorFlow or JAX is loaded.

    Both size their thread pools (each thread with its stack and allocator arenas) by the
    number of CPUs, and reserve that address space when they start computing: with Keras on
    JAX on a 16-core machine, grading ex04's reference died by SIGSEGV under 4,096 and 6,144
    MB of address space and passed under 8,192 MB. The limit is on address space, so the
    student's code can use this reserve too: a Keras child runs under `memory_mb` plus at
    most `RESERVE_PER_CPU_MB * RESERVE_MAX_CPUS` (6 GB), as the sandbox's protection line says.
    """
    if "jax" in sys.modules or "tensorflow" in sys.modules:
        return RESERVE_PER_CPU_MB * min(os.cpu_count() or 1, RESERVE_MAX_CPUS)
    return 0


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0  # pragma: no cover


def _count_tasks(uid: int) -> int:
    """Threads of all processes whose real uid is `uid` (what RLIMIT_NPROC counts)."""
    n = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            n += int(fields.get("Threads", "1").strip() or 1)
    return n


# --------------------------------------------------------------------------- mounts


def _first_blocked_ancestor(path: str) -> str | None:
    """The outermost folder above `path` that others may not enter (e.g. `/root`, mode 700)."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts)):
        folder = "/" + "/".join(parts[:i])
        try:
            mode = os.stat(folder).st_mode
        except OSError:
            return None
        if not mode & stat.S_IXOTH:
            return folder
    return None


def _expose(keep: list[str], stage: str) -> None:
    """Make each folder in `keep` reachable by an unprivileged user, whatever its ancestors' modes."""
    blocked: dict[str, list[str]] = {}
    for path in keep:
        folder = _first_blocked_ancestor(path)
        if folder:
            blocked.setdefault(folder, []).append(path)
    for n, (folder, paths) in enumerate(sorted(blocked.items())):
        staged = []
        for i, path in enumerate(paths):
            spot = os.path.join(stage, f"{n}-{i}")
            os.makedirs(spot, exist_ok=True)
            _mount(path, spot, None, MS_BIND | MS_REC)
            staged.append((spot, path))
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
        for spot, path in staged:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(spot, path, None, MS_MOVE)


def _hide(paths: list[str], keep: list[str]) -> None:
    """Cover each path with something empty; folders that hold a kept path are covered entry by entry."""
    for path in paths:
        if not os.path.lexists(path):
            continue
        if any(within(k, path) and k != path for k in keep):
            for entry in sorted(os.listdir(path)):
                _hide([os.path.join(path, entry)], keep)
        elif path in keep:
            continue
        elif os.path.isdir(path) and not os.path.islink(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=0555,size=4k")
        elif os.path.isfile(path):
            _mount("/dev/null", path, None, MS_BIND)


def _become_pid_one() -> None:
    """Fork into the new PID namespace: the child returns as its process 1; this process stays
    outside, waits for it and exits the same way, so the zygote sees how the child ended.

    When process 1 of a PID namespace dies, the kernel kills every process in it, so
    nothing the student starts can outlive the child, and the fresh `/proc` mounted
    there shows only those processes.
    """
    zygote = os.getppid()
    pid = os.fork()
    if pid == 0:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the process the zygote knows
        return
    # this waiting process dies with the zygote (a fork does not inherit the zygote's
    # parent-death signal), and process 1 of the namespace, with everything in it, after it
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != zygote:  # the zygote died before the line above took effect
        os.kill(pid, signal.SIGKILL)
        os._exit(1)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the grader's socket belongs to the child only
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


def _private_mounts(plan: Plan, stage: str) -> None:
    _unshare(NAMESPACES)
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _expose(plan.keep, stage)
    _hide(plan.hide, plan.keep + [os.path.dirname(plan.workdir)])
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=16m")
    owner = "" if plan.uid is None else f",uid={plan.uid},gid={plan.uid}"
    size = max(plan.max_file_mb * 2, 16)
    _mount("tmpfs", plan.workdir, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0700,size={size}m{owner}")
    _become_pid_one()
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY)


# --------------------------------------------------------------------------- landlock


def _allow_tree(rules: landlock.Ruleset, root: str, rights: int, hidden: list[str], top: bool = True) -> None:
    """Allow `rights` under `root` except under the hidden paths (allowed entry by entry around them).

    A `top` folder is allowed even inside a hidden one (a kept package inside the hidden repository).
    """
    if not os.path.exists(root) or (not top and any(within(root, h) for h in hidden)):
        return
    if not any(within(h, root) and h != root for h in hidden):
        rules.allow(root, rights)
        return
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return
    for entry in entries:
        _allow_tree(rules, os.path.join(root, entry), rights, hidden, top=False)


def _landlock_rules(plan: Plan) -> landlock.Ruleset:
    rules = landlock.Ruleset(plan.landlock)
    hidden = [os.path.realpath(h) for h in plan.hide]
    for tree in SYSTEM_TREES:
        _allow_tree(rules, os.path.realpath(tree), landlock.READ, hidden, top=False)
    for tree in plan.keep:
        _allow_tree(rules, os.path.realpath(tree), landlock.READ, hidden)
    rules.allow("/proc", landlock.READ_FILE | landlock.READ_DIR)
    rules.allow("/sys", landlock.READ_FILE | landlock.READ_DIR)
    rules.allow("/dev", landlock.READ_FILE | landlock.READ_DIR | landlock.WRITE_FILE)
    rules.allow(plan.workdir, landlock.fs_rights(plan.landlock))
    return rules


# --------------------------------------------------------------------------- the whole thing


def confine(plan: Plan, stage: str) -> list[str]:
    """Apply `plan` to this process, for good. Returns what was applied, in words.

    Raises:
        SandboxError: a planned protection failed (the caller must not run student code).
    """
    applied = []
    root = os.geteuid() == 0
    try:
        if plan.mounts:
            _private_mounts(plan, stage)
            applied.append("private mount, network, IPC and PID namespaces (grader folders hidden, / read-only, "
                           "no network, no shared IPC objects, /proc shows only its own processes)")
        rules = _landlock_rules(plan) if plan.landlock else None

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing
        base = _vm_size()
        reserve = runtime_reserve_mb()
        mem = base + (plan.memory_mb + reserve) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (plan.cpu_seconds, plan.cpu_seconds + 5))
        fsize = plan.max_file_mb * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        if plan.uid is not None:
            nproc = plan.max_processes
        else:
            nproc = _count_tasks(os.getuid()) + plan.max_processes
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        applied.append(f"limits: {plan.memory_mb} MB memory" + (f" (+{reserve} MB address space for the "
                       "ML runtime's threads)" if reserve else "") + f", {plan.max_processes} processes, "
                       f"{plan.max_file_mb} MB files, {plan.cpu_seconds} s CPU")

        if plan.uid is not None:
            if not root:
                raise SandboxError("changing user needs root")
            if not plan.mounts:
                os.chown(plan.workdir, plan.uid, plan.uid)
            os.setgroups([])
            os.setresgid(plan.uid, plan.uid, plan.uid)
            os.setresuid(plan.uid, plan.uid, plan.uid)
            try:
                os.setuid(0)
            except PermissionError:
                pass
            else:
                raise SandboxError("the child could become root again after dropping privileges")
            applied.append(f"unprivileged user (uid {plan.uid}, no capabilities)")

        if rules is not None:
            rules.restrict_self()
            applied.append(f"landlock ABI {plan.landlock} (files outside the interpreter invisible, "
                           "writes only in the work folder, no TCP, no signals out)")
        prctl(landlock._PR_SET_NO_NEW_PRIVS, 1)
        if plan.seccomp:
            seccomp.install()
            applied.append("seccomp (no UNIX sockets, no kernel keys)")
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except SandboxError:
        raise
    except OSError as err:
        raise SandboxError(str(err)) from None
    return applied
