"""A seccomp filter for the child: no UNIX sockets and no kernel keys.

- `socket(AF_UNIX, ...)` fails with EPERM: the child cannot connect to a UNIX socket of
  the machine (a database, a desktop session, a container runtime), whether it has a
  path in the file system or an abstract name. Its own connection to the grader was
  made before the filter (a socket pair), and `socketpair` stays allowed.
- `add_key`, `keyctl`, `request_key` fail with EPERM: nothing can be left in the kernel's
  keyrings for a later submission of the same uid, nor read from them.
- A system call made with another ABI than the process's own (32-bit `int 0x80` on
  x86-64, x32) fails with EPERM, so the filter cannot be walked around.

Installed with `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)`, which needs
`PR_SET_NO_NEW_PRIVS` (set before) and no privilege; it cannot be removed, and every
process the child starts inherits it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import socket

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_LD_W_ABS = 0x20
_JEQ = 0x15
_JGE = 0x35
_RET = 0x06
_ALLOW = 0x7FFF0000
_DENY = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO

# machine -> (AUDIT_ARCH_*, {name: number}, the first number of a foreign ABI or None)
_ARCHES = {
    "x86_64": (0xC000003E, {"socket": 41, "add_key": 248, "request_key": 249, "keyctl": 250}, 0x40000000),
    "aarch64": (0xC00000B7, {"socket": 198, "add_key": 217, "request_key": 218, "keyctl": 219}, None),
}


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def supported() -> bool:
    """Whether this machine's architecture is one the filter knows."""
    return platform.machine() in _ARCHES


def program() -> list[tuple[int, int, int, int]]:
    """The BPF instructions `(code, jump if true, jump if false, k)` for this architecture."""
    arch, numbers, foreign = _ARCHES[platform.machine()]
    keys = [numbers["add_key"], numbers["keyctl"], numbers["request_key"]]
    # jumps count from the next instruction: 12 is deny, 11 allow
    return [
        (_LD_W_ABS, 0, 0, 4),                                  # 0: A = arch
        (_JEQ, 1, 0, arch),                                     # 1: our arch? else deny
        (_RET, 0, 0, _DENY),                                    # 2
        (_LD_W_ABS, 0, 0, 0),                                   # 3: A = syscall number
        (_JGE, 7, 0, foreign if foreign is not None else 0xFFFFFFFF),  # 4: a foreign ABI -> deny
        (_JEQ, 6, 0, keys[0]),                                  # 5
        (_JEQ, 5, 0, keys[1]),                                  # 6
        (_JEQ, 4, 0, keys[2]),                                  # 7
        (_JEQ, 0, 2, numbers["socket"]),                        # 8: socket()? else allow
        (_LD_W_ABS, 0, 0, 16),                                  # 9: A = low word of the first argument
        (_JEQ, 1, 0, socket.AF_UNIX),                           # 10: AF_UNIX -> deny
        (_RET, 0, 0, _ALLOW),                                   # 11
        (_RET, 0, 0, _DENY),                                    # 12
    ]


def install() -> None:
    """Install the filter in this process (after `PR_SET_NO_NEW_PRIVS`).

    Raises:
        OSError: the kernel refused it.
    """
    code = program()
    filters = (_Filter * len(code))(*[_Filter(*ins) for ins in code])
    prog = _Program(len(code), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {os.strerror(err)}")
