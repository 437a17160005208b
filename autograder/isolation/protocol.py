"""The wire format between the trusted grader and the child running a student's code.

A frame is a JSON document plus binary blobs (NumPy arrays in `.npy` format):

    b"CNX1" | json_len: u64 | n_blobs: u32 | json bytes | (blob_len: u64 | blob bytes) * n_blobs

Values are plain data only. JSON carries `None`, `bool`, `int`, `float` (NaN and
infinities included), `str` and lists; everything else is a one-key object:

    {"T": [...]}          tuple
    {"D": [[k, v], ...]}  dict (any plain keys)
    {"A": i}              ndarray, blob `i`
    {"S": i}              NumPy scalar (`np.float64(...)`), blob `i` holding a 0-d array
    {"O": "TypeName"}     anything else: only its type's name crosses

Reading never unpickles: an array's `.npy` header is parsed and checked (bool, int,
uint, float or complex dtype, at most `max_elements` elements, byte count exact)
before its data is copied into a fresh array. What the child sends is untrusted:
every limit is checked on the reading side, and a frame that breaks one raises
`ProtocolError`.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import socket
import struct
import time

import numpy as np

MAGIC = b"CNX1"
_HEAD = struct.Struct(">4sQI")
_BLOB = struct.Struct(">Q")
ARRAY_KINDS = "biufc"  # bool, int, uint, float, complex: never object, string or structured


class ProtocolError(Exception):
    """A frame is malformed or breaks a limit."""


class PeerGone(Exception):
    """The other side closed the connection (it exited or was killed)."""


class Deadline(Exception):
    """No complete frame arrived (or could be sent) before the deadline."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What a reader accepts.

    Attributes:
        max_bytes: the whole frame.
        max_blobs: arrays per frame.
        max_elements: elements per array.
        max_depth: nesting of lists/tuples/dicts.
        max_nodes: values in one document.
        max_text: characters of one string.
        max_json: bytes of the JSON document (its values, arrays aside).
    """

    max_bytes: int = 256 * 2**20
    max_blobs: int = 4096
    max_elements: int = 2**27
    max_depth: int = 48
    max_nodes: int = 200_000
    max_text: int = 2**20
    max_json: int = 64 * 2**20


# --------------------------------------------------------------------------- values


def encode(value, blobs: list[bytes], depth: int = 0):
    """`value` as a JSON-able tree; arrays are appended to `blobs`.

    Subclasses are reduced to their plain base (an `int` subclass with a custom `__eq__`
    arrives as a plain `int`); objects that are not plain data arrive as `{"O": name}`.
    """
    if depth > 64:
        return {"O": "nested too deeply"}
    if value is None or type(value) in (bool, str, int, float):
        return value
    if isinstance(value, np.generic):
        if value.dtype.kind not in ARRAY_KINDS:
            return {"O": f"numpy {value.dtype.name}"}
        blobs.append(_npy(np.asarray(value)))
        return {"S": len(blobs) - 1}
    if isinstance(value, np.ndarray):
        arr = np.asarray(value)
        if arr.dtype.kind not in ARRAY_KINDS or arr.dtype.fields is not None:
            return {"O": f"ndarray[{arr.dtype}]"}
        blobs.append(_npy(arr))
        return {"A": len(blobs) - 1}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, tuple):
        return {"T": [encode(v, blobs, depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, list):
        return [encode(v, blobs, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, dict):
        return {"D": [[encode(k, blobs, depth + 1), encode(v, blobs, depth + 1)] for k, v in dict.items(value)]}
    return {"O": type(value).__name__}


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


class Foreign:
    """Stands for a value of a type that cannot cross the boundary.

    It equals nothing but itself and converts to nothing, so no comparison can be
    fooled by it. Its class is named after the student's type, for messages
    ("expected an ndarray, got Cheater").
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object>"


_FOREIGN: dict[str, type] = {}
MAX_FOREIGN_TYPES = 256  # a child cannot make the grader create classes without bound


def _foreign(name) -> Foreign:
    name = str(name)[:60] if isinstance(name, str) else "object"
    name = "".join(c if c.isprintable() else "?" for c in name) or "object"
    name = name.encode("utf-8", "replace").decode("utf-8")
    cls = _FOREIGN.get(name)
    if cls is None:
        if len(_FOREIGN) >= MAX_FOREIGN_TYPES:
            name = "object"
            cls = _FOREIGN.get(name)
        if cls is None:
            cls = _FOREIGN.setdefault(name, type(name, (Foreign,), {"__slots__": ()}))
    return cls()


def decode(tree, arrays: list[np.ndarray], limits: Limits):
    """The value a tree made by `encode` stands for; raises `ProtocolError` on anything else."""
    budget = [limits.max_nodes]

    def walk(node, depth):
        budget[0] -= 1
        if budget[0] < 0:
            raise ProtocolError(f"more than {limits.max_nodes} values in one message")
        if depth > limits.max_depth:
            raise ProtocolError(f"values nested deeper than {limits.max_depth}")
        if node is None or type(node) in (bool, int, float):
            return node
        if type(node) is str:
            if len(node) > limits.max_text:
                raise ProtocolError(f"a string longer than {limits.max_text} characters")
            return node
        if type(node) is list:
            return [walk(v, depth + 1) for v in node]
        if type(node) is dict and len(node) == 1:
            (tag, body), = node.items()
            if tag == "T" and type(body) is list:
                return tuple(walk(v, depth + 1) for v in body)
            if tag == "D" and type(body) is list:
                out = {}
                for pair in body:
                    if type(pair) is not list or len(pair) != 2:
                        raise ProtocolError("a dict entry is not a [key, value] pair")
                    key = walk(pair[0], depth + 1)
                    try:
                        out[key] = walk(pair[1], depth + 1)
                    except TypeError:
                        raise ProtocolError(f"unhashable dict key {type(key).__name__}") from None
                return out
            if tag in ("A", "S") and type(body) is int:
                if not 0 <= body < len(arrays):
                    raise ProtocolError(f"reference to a missing array #{body}")
                arr = arrays[body].copy()
                if tag == "S":
                    if arr.ndim != 0:
                        raise ProtocolError("a NumPy scalar that is not 0-d")
                    return arr[()]
                return arr
            if tag == "O":
                return _foreign(body)
        raise ProtocolError(f"not a plain value: {str(node)[:80]}")

    return walk(tree, 0)


def read_npy(blob: bytes, limits: Limits) -> np.ndarray:
    """A fresh array from `.npy` bytes, after checking its header; never unpickles."""
    f = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=2000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=2000)
        else:
            raise ValueError(f"version {version}")
    except Exception as err:  # numpy raises ValueError/SyntaxError/... on junk headers
        raise ProtocolError(f"not a valid .npy array ({type(err).__name__}: {err})") from None
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"arrays of dtype {dtype} are not accepted")
    if not isinstance(shape, tuple) or len(shape) > 32 or any(
        type(n) is not int or n < 0 for n in shape
    ):
        raise ProtocolError(f"invalid array shape {shape!r}")
    count = math.prod(shape)
    if count > limits.max_elements:
        raise ProtocolError(f"an array of {count} elements (limit {limits.max_elements})")
    data = memoryview(blob)[f.tell():]
    if len(data) != count * dtype.itemsize:
        raise ProtocolError(
            f"array data is {len(data)} bytes, its header says {count * dtype.itemsize}"
        )
    flat = np.frombuffer(data, dtype=dtype, count=count)
    return flat.reshape(shape, order="F" if fortran else "C").copy(order="K")


# --------------------------------------------------------------------------- frames


def pack(doc: dict, blobs: list[bytes] = ()) -> bytes:
    """One frame holding `doc` and `blobs`."""
    body = json.dumps(doc, allow_nan=True, separators=(",", ":")).encode("utf-8")
    parts = [_HEAD.pack(MAGIC, len(body), len(blobs)), body]
    for blob in blobs:
        parts += [_BLOB.pack(len(blob)), blob]
    return b"".join(parts)


def send(sock: socket.socket, doc: dict, blobs: list[bytes] = (), deadline: float | None = None) -> None:
    """Send one frame; `Deadline` when the peer does not take it in time, `PeerGone` when it left."""
    data = pack(doc, blobs)
    try:
        sock.settimeout(_remaining(deadline))
        sock.sendall(data)
    except socket.timeout:
        raise Deadline() from None
    except OSError as err:  # broken pipe, connection reset
        raise PeerGone(str(err)) from None


def receive(
    sock: socket.socket, limits: Limits, deadline: float | None = None
) -> tuple[dict, list[bytearray]]:
    """Read one frame: (JSON document, raw blobs). Checks sizes before reading data."""
    head = _read_exactly(sock, _HEAD.size, deadline)
    magic, json_len, n_blobs = _HEAD.unpack(head)
    if magic != MAGIC:
        raise ProtocolError("the message does not start with the protocol's magic bytes")
    if json_len > min(limits.max_bytes, limits.max_json) or n_blobs > limits.max_blobs:
        raise ProtocolError(f"message too large ({json_len} bytes of JSON, {n_blobs} arrays)")
    total = _HEAD.size + json_len
    try:
        doc = json.loads(_read_exactly(sock, json_len, deadline).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ProtocolError(f"the message is not valid JSON ({type(err).__name__})") from None
    if type(doc) is not dict:
        raise ProtocolError("the message is not a JSON object")
    blobs = []
    for _ in range(n_blobs):
        (size,) = _BLOB.unpack(_read_exactly(sock, _BLOB.size, deadline))
        total += _BLOB.size + size
        if total > limits.max_bytes:
            raise ProtocolError(f"message larger than {limits.max_bytes} bytes")
        blobs.append(_read_exactly(sock, size, deadline))
    return doc, blobs


def values(tree, blobs: list[bytes], limits: Limits):
    """Decode a tree whose arrays are the raw `.npy` `blobs` of the same frame."""
    return decode(tree, [read_npy(b, limits) for b in blobs], limits)


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise Deadline()
    return left


def _read_exactly(sock: socket.socket, n: int, deadline: float | None) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        try:
            sock.settimeout(_remaining(deadline))
            k = sock.recv_into(view[got:], min(n - got, 1 << 20))
        except socket.timeout:
            raise Deadline() from None
        except OSError as err:  # connection reset
            raise PeerGone(str(err)) from None
        if k == 0:
            raise PeerGone("connection closed")
        got += k
    return buf
