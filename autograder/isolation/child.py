"""What runs in the child: confine itself, load the student's file, answer calls until killed.

Requests (from the trusted grader) and replies are frames of `protocol`:

    {"op": "load", "name": "alice.ipynb", "functions": [...], "numpy_only": [...]} + the file's bytes
        -> first {"policy": {function: message}, "functions": {function: source}} or
           {"unreadable": message}, decided from
           the source before any of the student's code runs (so nothing it does can change
           it), then {"problems": [...], "callables": [...]}
    {"op": "call", "function": "conv2d", "args": tree, "kwargs": tree} + arrays
        -> {"value": tree} | {"raised": {...}} | {"modified": "images"} | {"unsendable": "..."}
    {"op": "probe", "name": "train", "params": tree} + arrays
        -> the same as "call"
    {"op": "build", "name": "describe", "params": tree} + arrays
        -> the same, the value `{"built": plain data, "models": {name: .keras bytes}}`
    {"op": "measure", "name": "describe", "params": tree, "built": tree} + arrays and .keras bytes
        -> the same; sent only to a fresh child that loaded no submission: it loads the
           models with `safe_mode=True` and runs the probe's measuring half

Every reply echoes the request's `id`. Nothing here decides a score: the grader reads
these replies as untrusted data.
"""

from __future__ import annotations

import ast
import hashlib
import os
import signal
import socket
import sys
import tempfile

import numpy as np

from autograder.errors import LoadError
from autograder.isolation import protocol, sandbox
from autograder.loading import definitions, load, read_units
from autograder.policy import policy_failures
from autograder.reports.snippets import function_sources

# The engine's own helpers, so that a child judges "modified" and "where" exactly as in-process.
from autograder.student import modified_argument, snapshot, student_frame

REQUESTS = protocol.Limits()  # what the grader may send (trusted, but checked all the same)
MAX_REPLY = 256 * 2**20  # a saved VGG16 is about 60 MB
MAX_TEXT = 4000


def run(sock: socket.socket, plan: sandbox.Plan, stage: str, exercise: str, probes: dict) -> None:
    """The child's whole life. Never returns: exits when the grader closes the connection."""
    _quiet()
    try:
        applied = sandbox.confine(plan, stage)
        os.chdir(plan.workdir)
    except (sandbox.SandboxError, OSError) as err:
        protocol.send(sock, {"fatal": f"the sandbox could not be set up: {err}"})
        os._exit(70)
    os.environ.clear()
    os.environ.update(
        PATH="/usr/local/bin:/usr/bin:/bin",
        HOME=plan.workdir,
        TMPDIR=plan.workdir,
        LANG="C.UTF-8",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    tempfile.tempdir = plan.workdir  # the zygote's cached choice (/tmp) is read-only here
    protocol.send(sock, {"ready": applied, "pid": os.getpid()})
    try:
        Server(sock, exercise, probes, plan.workdir).serve()
    except (protocol.PeerGone, protocol.ProtocolError):
        pass
    os._exit(0)


def _quiet() -> None:
    """Send everything the student prints to /dev/null, at the file-descriptor level too."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr = open(os.devnull, "w")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


class Server:
    """Serves the grader's requests with the student's namespace."""

    def __init__(self, sock: socket.socket, exercise: str, probes: dict, workdir: str):
        self.sock = sock
        self.exercise = exercise
        self.probes = probes
        self.workdir = workdir
        self.student = None
        self.loaded: dict[str, object] = {}  # measuring: sha256 of .keras bytes -> a model no probe changed

    def serve(self) -> None:
        while True:
            doc, blobs = protocol.receive(self.sock, REQUESTS)
            op = doc.get("op")
            if op == "load":
                reply, out = self.load(doc, blobs), []
            elif op == "call":
                reply, out = self.call(doc, blobs)
            elif op == "probe":
                reply, out = self.probe(doc, blobs)
            elif op == "build":
                reply, out = self.build(doc, blobs)
            elif op == "measure":
                reply, out = self.measure(doc, blobs)
            else:
                reply, out = {"fatal": f"unknown request {op!r}"}, []
            reply["id"] = doc.get("id")
            try:
                frame = protocol.pack(reply, out)
            except (ValueError, TypeError, RecursionError, MemoryError) as err:
                frame = protocol.pack(
                    {"id": doc.get("id"), "unsendable": f"its result could not be sent back ({type(err).__name__})"}
                )
            self.sock.settimeout(None)
            self.sock.sendall(frame)

    def load(self, doc: dict, blobs) -> dict:
        name = os.path.basename(str(doc.get("name", "submission.py"))) or "submission.py"
        path = os.path.join(self.workdir, name)
        with open(path, "wb") as f:
            f.write(bytes(blobs[0]))
        functions = [str(f) for f in doc.get("functions", [])][:100]
        numpy_only = [str(f) for f in doc.get("numpy_only", [])][:100]
        first = examine(path, functions, numpy_only)
        self.sock.sendall(protocol.pack({**first, "id": doc.get("id")}))
        if "unreadable" in first:
            return {"problems": [first["unreadable"]], "callables": []}
        try:
            self.student = load(path, module_name=f"student_{self.exercise}")
        except LoadError as err:
            return {"problems": [str(err)[:MAX_TEXT]], "callables": []}
        except (RecursionError, MemoryError) as err:  # compiling a deeply nested or huge file
            return {"problems": [_too_big(name, err)], "callables": []}
        namespace = vars(self.student.namespace)
        names = [n for n, v in list(namespace.items()) if not n.startswith("__") and callable(v)]
        return {"problems": [str(p)[:MAX_TEXT] for p in self.student.problems], "callables": names[:2000]}

    def call(self, doc: dict, blobs) -> tuple[dict, list]:
        function = str(doc.get("function"))
        args = protocol.values(doc.get("args", {"T": []}), blobs, REQUESTS)
        kwargs = protocol.values(doc.get("kwargs", {"D": []}), blobs, REQUESTS)
        fn = getattr(self.student, function, None) if self.student is not None else None
        if fn is None or not callable(fn):
            return {"raised": _raised(function, NameError(f"{function} is not defined"))}, []
        before = snapshot(list(args) + list(kwargs.values()))
        try:
            out = fn(*args, **kwargs)
        except BaseException as err:  # SystemExit and MemoryError included: the grader decides
            return {"raised": _raised(function, err)}, []
        modified = modified_argument(fn, args, kwargs, before)
        if modified is not None:
            return {"modified": modified}, []
        return _value(out)

    def probe(self, doc: dict, blobs) -> tuple[dict, list]:
        name = str(doc.get("name"))
        params = protocol.values(doc.get("params", {"D": []}), blobs, REQUESTS)
        probe = self.probes.get(name)
        if probe is None:
            return {"fatal": f"the exercise has no probe {name!r}"}, []
        try:
            out = probe(self.student, **params)
        except NotImplementedError as err:
            return {"raised": _raised(str(err) or name, err)}, []
        except BaseException as err:
            return {"raised": _raised(f"probe {name}", err)}, []
        return _value(out)

    def _stage(self, name: str):
        return getattr(self.probes.get(name), "stage", None)

    def build(self, doc: dict, blobs) -> tuple[dict, list]:
        """Run a staged probe's building half with the student's code; save what it built."""
        name = str(doc.get("name"))
        stage = self._stage(name)
        if stage is None or self.student is None:
            return {"fatal": f"the exercise has no staged probe {name!r}"}, []
        params = protocol.values(doc.get("params", {"D": []}), blobs, REQUESTS)
        try:
            built = stage.build(self.student, **params)
        except NotImplementedError as err:
            return {"raised": _raised(str(err) or name, err)}, []
        except BaseException as err:
            return {"raised": _raised(f"probe {name}", err)}, []
        if not isinstance(built, dict) or "models" not in built:
            return _value(built)
        saved, unsaved = {}, {}
        for key, model in dict(built.pop("models")).items():
            path = os.path.join(self.workdir, f"model-{len(saved) + len(unsaved)}.keras")
            try:
                model.save(path)
                with open(path, "rb") as f:
                    saved[str(key)] = np.frombuffer(f.read(), dtype=np.uint8)
                os.remove(path)
            except BaseException as err:
                unsaved[str(key)] = f"saving it failed: {type(err).__name__}: {str(err)[:300]}"
        return _value({"built": {**built, "unloadable": unsaved}, "models": saved})

    def measure(self, doc: dict, blobs) -> tuple[dict, list]:
        """Load the saved models with Keras' own classes only, and run the measuring half."""
        name = str(doc.get("name"))
        stage = self._stage(name)
        if stage is None or self.student is not None:
            return {"fatal": f"no measuring of {name!r} here"}, []
        params = protocol.values(doc.get("params", {"D": []}), blobs, REQUESTS)
        built = protocol.values(doc.get("built", {"D": []}), blobs, REQUESTS)
        models = protocol.values(doc.get("models", {"D": []}), blobs, REQUESTS)
        built = dict(built) if isinstance(built, dict) else {}
        built["unloadable"] = dict(built.get("unloadable") or {})
        built["models"] = {str(k): None for k in built["unloadable"]}
        for key, data in dict(models).items():
            built["models"][str(key)], reason = self._model(str(key), data, stage.keeps_model)
            if reason:
                built["unloadable"][str(key)] = reason
        try:
            return _value(stage.measure(built, **params))
        except BaseException as err:
            return {"raised": _raised(f"probe {name}", err)}, []

    def _model(self, key: str, data, keep: bool) -> tuple[object, str]:
        """`_load_model`, or the model loaded from the same bytes before when the probe keeps it
        as it is (a probe that changes its model always gets one loaded anew)."""
        digest = hashlib.sha256(np.asarray(data, dtype=np.uint8).tobytes()).hexdigest()
        if keep and digest in self.loaded:
            return self.loaded[digest], ""
        model, reason = _load_model(self.workdir, key, data)
        if keep and model is not None:
            self.loaded[digest] = model
        return model, reason


def examine(path: str, functions: list[str], numpy_only: list[str]) -> dict:
    """Read and parse the file and apply the policy, running none of it.

    Returns:
        `{"policy": {function: message}}`, or `{"unreadable": message}` when the file
        cannot be read (empty, binary, corrupt notebook) or parsed within the limits.
    """
    name = os.path.basename(path)
    try:
        units = read_units(path)
        parsed = []
        for unit in units:
            try:
                parsed.append((unit.label, ast.parse(unit.source, filename=f"<student {unit.label}>")))
            except (SyntaxError, ValueError):
                continue  # reported by the loader, with its cell and line
        kept = definitions([tree for _, tree in parsed])
        trees = [(label, tree) for (label, _), tree in zip(parsed, kept)]
        policy = policy_failures(trees, functions, numpy_only)
    except LoadError as err:
        return {"unreadable": str(err)[:MAX_TEXT]}
    except (RecursionError, MemoryError) as err:
        return {"unreadable": _too_big(name, err)}
    return {
        "policy": {str(k): str(v)[:MAX_TEXT] for k, v in policy.items()},
        # anonymised sources of the contract's functions, for the instructor's class report
        "functions": {str(k): str(v)[:MAX_TEXT] for k, v in function_sources(trees, functions).items()},
    }


def _too_big(name: str, err: BaseException) -> str:
    what = "nested too deeply" if isinstance(err, RecursionError) else "too large"
    return (f"{name} could not be read within the grader's limits: it is {what} "
            f"({type(err).__name__}). Submit the exercise's functions as ordinary code.")


def _load_model(workdir: str, key: str, data) -> tuple[object, str]:
    """`(model, "")` from `.keras` bytes, loaded with `safe_mode=True` in the strategy's scope,
    or `(None, why it could not be loaded)`."""
    import keras

    from cnnexercises import distribute

    path = os.path.join(workdir, f"measure-{abs(hash(key)) % 10**8}.keras")
    try:
        with open(path, "wb") as f:
            f.write(np.asarray(data, dtype=np.uint8).tobytes())
        with distribute.get_strategy().scope():
            return keras.saving.load_model(path, safe_mode=True), ""
    except BaseException as err:
        return None, f"{type(err).__name__}: {str(err).splitlines()[0][:300] if str(err) else ''}"
    finally:
        if os.path.exists(path):
            os.remove(path)


def _raised(function: str, err: BaseException) -> dict:
    kind = "NotImplementedError" if isinstance(err, NotImplementedError) else type(err).__name__
    try:
        message = str(err)
    except BaseException:  # a student exception whose __str__ raises
        message = "(the exception's message could not be read)"
    return {
        "function": function,
        "type": kind[:200],
        "message": message[:MAX_TEXT],
        "where": student_frame(err)[:MAX_TEXT],
    }


def _value(out) -> tuple[dict, list]:
    blobs: list[bytes] = []
    try:
        tree = protocol.encode(out, blobs)
    except (ValueError, MemoryError, RecursionError) as err:
        return {"unsendable": f"its result could not be sent back ({type(err).__name__})"}, []
    size = sum(len(b) for b in blobs)
    if size > MAX_REPLY:
        return {"unsendable": f"it returned {size / 2**20:.0f} MB of arrays (limit {MAX_REPLY // 2**20} MB)"}, []
    return {"value": tree}, blobs
