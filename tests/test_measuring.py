"""The measuring side of staged probes: kept builds and the measuring child (no Keras needed).

A fake zygote stands in for the real one: each "child" is a thread on the other end of a
socket pair that answers the protocol as a measuring child would, and says which child it is.
"""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest

from autograder.outcomes import ERROR, Unavailable
from autograder.isolation import protocol
from autograder.isolation.measuring import Measurer, build_key
from autograder.isolation.proxy import REPLIES, Budget
from autograder.probes import staged


class FakeZygote:
    """Spawns threads that answer measurements with `{"child": n, "name": ..., "models": [...]}`."""

    def __init__(self, behaviour: str = "answer"):
        self.behaviour = behaviour
        self.spawned = 0
        self.finished: list[int] = []

    def spawn(self, memory_mb, cpu_seconds, max_processes=64, max_file_mb=64):
        self.spawned += 1
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        threading.Thread(target=self._serve, args=(theirs, self.spawned), daemon=True).start()
        return self.spawned, mine

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            protocol.send(sock, {"ready": []})
            while True:
                doc, blobs = protocol.receive(sock, protocol.Limits())
                if self.behaviour == "hang":
                    sock.recv(1)  # until the grader closes its end
                    return
                models = protocol.values(doc["models"], blobs, protocol.Limits())
                reply = {"child": number, "name": doc["name"], "models": sorted(models)}
                out: list[bytes] = []
                protocol.send(sock, {"id": doc["id"], "value": protocol.encode(reply, out)}, out)
        except (protocol.PeerGone, protocol.ProtocolError, OSError):
            pass
        finally:
            sock.close()

    def finish(self, pid, grace=0.0):
        self.finished.append(pid)


def _build(student, input_shape):
    return {"models": {}}


def _measure(built, input_shape, x):
    return {}


STAGE = staged(_build, _measure, ("input_shape",)).stage
MODEL = {"model": np.arange(16, dtype=np.uint8)}


def _measurer(zygote) -> Measurer:
    return Measurer(zygote, Budget(timeout=5.0), checks=3, limits=REPLIES)


def _key(shape) -> str:
    blobs: list[bytes] = []
    return build_key(STAGE, protocol.encode({"input_shape": list(shape)}, blobs), blobs)


def _value(measurer: Measurer, kept, hidden=False) -> dict:
    reply, out = measurer.measure("describe", {"x": np.zeros(3)}, kept, hidden, time.monotonic() + 10)
    return protocol.values(reply["value"], out, REPLIES)


def test_the_same_build_parameters_give_the_same_key_and_others_another():
    assert _key((28, 28, 1)) == _key((28, 28, 1))
    assert _key((28, 28, 1)) != _key((28, 20, 1))
    other = staged(lambda student, input_shape: {}, _measure, ("input_shape",)).stage
    blobs: list[bytes] = []
    assert build_key(other, protocol.encode({"input_shape": [28, 28, 1]}, blobs), blobs) != _key((28, 28, 1))


def test_a_kept_build_is_found_again_by_its_key():
    measurer = _measurer(FakeZygote())
    kept = measurer.keep(_key((28, 28, 1)), {"type": "Sequential"}, MODEL, after_hidden=False)
    assert measurer.built(_key((28, 28, 1)), hidden=False) is kept
    assert measurer.built(_key((28, 28, 1)), hidden=True) is kept
    assert measurer.built(_key((36, 32, 3)), hidden=False) is None


def test_a_build_made_after_a_hidden_check_is_never_used_by_a_public_check():
    measurer = _measurer(FakeZygote())
    tainted = measurer.keep(_key((28, 28, 1)), {}, MODEL, after_hidden=True)
    assert measurer.built(_key((28, 28, 1)), hidden=False) is None
    assert measurer.built(_key((28, 28, 1)), hidden=True) is tainted
    clean = measurer.keep(_key((28, 28, 1)), {}, MODEL, after_hidden=False)  # built again for a public check
    assert measurer.built(_key((28, 28, 1)), hidden=False) is clean
    measurer.keep(_key((28, 28, 1)), {}, MODEL, after_hidden=True)
    assert measurer.built(_key((28, 28, 1)), hidden=False) is clean  # a clean build is not replaced


def test_consecutive_measurements_share_one_measuring_child():
    zygote = FakeZygote()
    measurer = _measurer(zygote)
    kept = measurer.keep(_key((28, 28, 1)), {}, MODEL, after_hidden=False)
    children = [_value(measurer, kept)["child"] for _ in range(3)]
    assert children == [1, 1, 1] and zygote.spawned == 1
    assert _value(measurer, kept)["models"] == ["model"]
    measurer.close()
    assert zygote.finished == [1]
    assert _value(measurer, kept)["child"] == 2  # after close, the next measurement starts a new one


def test_a_public_check_after_a_hidden_one_gets_a_new_measuring_child():
    zygote = FakeZygote()
    measurer = _measurer(zygote)
    kept = measurer.keep(_key((28, 28, 1)), {}, MODEL, after_hidden=False)
    assert _value(measurer, kept, hidden=False)["child"] == 1
    assert _value(measurer, kept, hidden=True)["child"] == 1
    assert _value(measurer, kept, hidden=True)["child"] == 1
    assert _value(measurer, kept, hidden=False)["child"] == 2
    assert zygote.finished == [1]


def test_a_measurement_past_its_deadline_ends_its_child_and_the_next_starts_a_new_one():
    zygote = FakeZygote("hang")
    measurer = _measurer(zygote)
    kept = measurer.keep(_key((28, 28, 1)), {}, MODEL, after_hidden=False)
    with pytest.raises(protocol.Deadline):
        measurer.measure("describe", {}, kept, False, time.monotonic() + 0.3)
    assert zygote.finished == [1]
    zygote.behaviour = "answer"
    assert _value(measurer, kept)["child"] == 2


def test_a_measuring_child_that_does_not_start_is_the_graders_failure():
    class Broken(FakeZygote):
        def _serve(self, sock, number):
            protocol.send(sock, {"fatal": "the sandbox could not be set up"})
            sock.close()

    measurer = _measurer(Broken())
    kept = measurer.keep(_key((28, 28, 1)), {}, MODEL, after_hidden=False)
    with pytest.raises(Unavailable) as caught:
        measurer.measure("describe", {}, kept, False, time.monotonic() + 10)
    assert caught.value.status == ERROR and "sandbox could not be set up" in str(measurer.failure)


def test_the_measuring_child_reuses_a_loaded_model_only_for_probes_that_keep_it(monkeypatch):
    from autograder.isolation import child

    loads = []

    def fake_load(workdir, key, data):
        loads.append(key)
        return object(), ""

    monkeypatch.setattr(child, "_load_model", fake_load)
    seen = []

    def look(built, x):
        seen.append(built["models"]["model"])
        return {}

    keeping = staged(_build, look, ("input_shape",), keeps_model=True)
    changing = staged(_build, look, ("input_shape",))
    server = child.Server(None, "ex04_keras_cnn", {"look": keeping, "train": changing}, "/tmp")

    def measure(name, data):
        blobs: list[bytes] = []
        doc = {"op": "measure", "name": name, "params": protocol.encode({"x": 1}, blobs),
               "built": protocol.encode({}, blobs), "models": protocol.encode({"model": data}, blobs)}
        reply, _ = server.measure(doc, [bytes(b) for b in blobs])
        assert "value" in reply, reply

    other = np.arange(8, dtype=np.uint8)
    for name, data in (("look", MODEL["model"]), ("look", MODEL["model"]), ("train", MODEL["model"]),
                       ("train", MODEL["model"]), ("look", MODEL["model"]), ("look", other)):
        measure(name, data)
    assert len(loads) == 4  # once for "look", anew for each "train", once for the other bytes
    assert seen[0] is seen[1] is seen[4]
    assert len({id(m) for m in (seen[0], seen[2], seen[3], seen[5])}) == 4


def test_a_deadline_that_comes_while_the_measuring_child_starts_is_a_deadline_not_a_grader_failure():
    class Slow(FakeZygote):
        def _serve(self, sock, number):
            sock.recv(1)  # never ready

    measurer = _measurer(Slow())
    kept = measurer.keep(_key((28, 28, 1)), {}, MODEL, after_hidden=False)
    with pytest.raises(protocol.Deadline):
        measurer.measure("describe", {}, kept, False, time.monotonic() + 0.3)
    assert measurer.failure is None
