"""Landlock (Linux ≥ 5.13): let a process see only the files it is allowed to, by path.

Landlock works without privileges and cannot be undone by the process it restricts
(nor by its children). A ruleset lists what is *allowed*; everything else handled by
the ruleset is denied: reading outside the allowed trees, writing anywhere but the
work folder, TCP (ABI ≥ 4), signalling or connecting to abstract sockets of processes
outside the sandbox (ABI ≥ 6).

Used through ctypes (the standard library has no binding): three system calls with the
same numbers on every architecture.
"""

from __future__ import annotations

import ctypes
import os
import struct

_CREATE, _ADD_RULE, _RESTRICT = 444, 445, 446
_VERSION_FLAG = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

READ = READ_FILE | READ_DIR | EXECUTE
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is missing or disabled."""
    try:
        version = _libc.syscall(_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION_FLAG))
    except Exception:  # pragma: no cover - no syscall() in this libc
        return 0
    return max(int(version), 0)


def fs_rights(abi: int) -> int:
    """Every file-system right the kernel's ABI knows (all of them are handled = denied by default)."""
    rights = (MAKE_SYM << 1) - 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


class Ruleset:
    """A Landlock ruleset being built; `restrict_self()` applies it to this process for good.

    Args:
        abi: the kernel's ABI version (`abi_version()`), at least 1.

    Raises:
        OSError: the kernel refused to create the ruleset.
    """

    def __init__(self, abi: int):
        self.abi = abi
        self.handled = fs_rights(abi)
        fields = [self.handled]
        if abi >= 4:
            fields.append(NET_BIND_TCP | NET_CONNECT_TCP)  # no rules added: all TCP denied
        if abi >= 6:
            fields.append(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)
        attr = struct.pack(f"={len(fields)}Q", *fields)
        buf = ctypes.create_string_buffer(attr, len(attr))
        fd = _libc.syscall(_CREATE, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
        self.fd = int(fd)
        self.paths: list[str] = []

    def allow(self, path: str, rights: int) -> bool:
        """Allow `rights` on `path` and everything below it. Returns False if `path` is missing."""
        try:
            target = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            if not os.path.isdir(path):
                rights &= FILE_ONLY
            rights &= self.handled
            attr = struct.pack("=Qi", rights, target)
            buf = ctypes.create_string_buffer(attr, len(attr))
            if _libc.syscall(_ADD_RULE, ctypes.c_int(self.fd), ctypes.c_int(_RULE_PATH_BENEATH), buf, ctypes.c_uint32(0)) < 0:
                err = ctypes.get_errno()
                raise OSError(err, f"landlock_add_rule({path!r}): {os.strerror(err)}")
        finally:
            os.close(target)
        self.paths.append(path)
        return True

    def restrict_self(self) -> None:
        """Apply the ruleset to this process (and every process it starts later)."""
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(err)}")
        if _libc.syscall(_RESTRICT, ctypes.c_int(self.fd), ctypes.c_uint32(0)) < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_restrict_self: {os.strerror(err)}")
        os.close(self.fd)
