"""The same scores on any CPU: other BLAS kernels, other thread counts, recordings within tolerance.

OpenBLAS picks a matrix kernel for the CPU it runs on, and `OPENBLAS_CORETYPE` forces one;
`OPENBLAS_NUM_THREADS` changes how sums are split. Both change the last bits of every
float that goes through a matrix product, so nothing here may depend on them.

`python tests/test_any_machine.py` prints the kernels this CPU runs and the largest
difference between the recordings they give.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import exercises
from autograder.cli import main
from autograder.expected import _array_from_json, differences
from autograder.release import check_release, recordings

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ("Prescott", "Nehalem", "Sandybridge", "Haswell")  # names OpenBLAS's DYNAMIC_ARCH accepts
THREADS = (1, 2)
NUMPY_EXERCISES = exercises.recorded()

# Run in a fresh interpreter under the given BLAS kernel: the drift check, the public checks
# of every NumPy exercise on the solutions (against the reference, then against the
# recordings, as a student without solutions/ gets them), and the fresh recordings.
_RUN = r"""
import json, sys
from pathlib import Path
import threadpoolctl
from autograder.release import check_release, recordings
from autograder.runner import check_file

root, names = Path(sys.argv[1]), sys.argv[2].split(",")
blas = [i for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"]
scores = {}
for name in names:
    report = check_file(name, root / "solutions" / f"{name}.py")
    scores[name] = [[r.name, r.score, r.status] for r in report.results]
# a student's copy: no solutions/, the public checks answered from the recordings
import os
from autograder.reference import load_reference
os.environ["CNNEX_SOLUTIONS"] = str(root / "not-shipped")
load_reference.cache_clear()
replayed = {}
for name in names:
    report = check_file(name, root / "solutions" / f"{name}.py")
    replayed[name] = [[r.name, r.score, r.status] for r in report.results]
del os.environ["CNNEX_SOLUTIONS"]
load_reference.cache_clear()
fresh = {p.name: text for p, text in recordings(root / "solutions", Path("unused")).items()}
print(json.dumps({
    "kernel": blas[0]["architecture"] if blas else None,
    "threads": blas[0]["num_threads"] if blas else None,
    "drift": check_release(root / "solutions", root / "assignments"),
    "scores": scores,
    "replayed": replayed,
    "recordings": fresh,
}))
"""


def run_under(kernel: str, threads: int) -> dict | None:
    """The drift check, scores and recordings under one kernel; None if this CPU cannot run it."""
    env = {**os.environ, "OPENBLAS_CORETYPE": kernel, "OPENBLAS_NUM_THREADS": str(threads)}
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(ROOT), ",".join(NUMPY_EXERCISES)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    if proc.returncode < 0:  # SIGILL: the kernel needs instructions this CPU lacks
        return None
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def largest_difference(runs: list[dict]) -> float:
    """The largest absolute difference between any two runs' recorded float answers."""
    worst = 0.0
    first = runs[0]["recordings"]
    for run in runs[1:]:
        for name, text in run["recordings"].items():
            mine, theirs = json.loads(text)["answers"], json.loads(first[name])["answers"]
            for key, answer in mine.items():
                if "array" in answer and np.dtype(answer["array"]["dtype"]).kind == "f":
                    a, b = _array_from_json(answer["array"]), _array_from_json(theirs[key]["array"])
                    worst = max(worst, float(np.max(np.abs(a - b), initial=0.0)))
                elif "float" in answer:
                    worst = max(worst, abs(answer["float"] - theirs[key]["float"]))
    return worst


def all_runs() -> list[dict]:
    runs = []
    for kernel in KERNELS:
        for threads in THREADS:
            run = run_under(kernel, threads)
            if run is not None:
                runs.append({"asked": kernel, **run})
    return runs


@pytest.mark.slow
def test_scores_and_recordings_agree_under_every_blas_kernel_and_thread_count():
    runs = all_runs()
    kernels = {run["kernel"] for run in runs}
    assert len(kernels) >= 3, f"fewer than three BLAS kernels run on this CPU: {kernels}"
    assert {run["threads"] for run in runs} == set(THREADS)
    for run in runs:
        assert run["drift"] == [], f"{run['asked']}, {run['threads']} thread(s): {run['drift']}"
        assert run["scores"] == runs[0]["scores"], f"{run['asked']}, {run['threads']} thread(s)"
        assert run["replayed"] == run["scores"], f"recordings, {run['asked']}, {run['threads']} thread(s)"
    for scores in runs[0]["scores"].values():
        assert all(status == "passed" for _, _, status in scores)
    assert largest_difference(runs) < 1e-9  # last bits only: far inside every check's tolerance


# --------------------------------------------------------------------- recordings


@pytest.fixture(scope="module")
def ex01_recording() -> str:
    return (ROOT / "autograder" / "expected" / "ex01_convolution.json").read_text()


def _perturbed(text: str, factor: float) -> str:
    """The recording with every float answer multiplied by `factor` (another CPU's last bits)."""
    doc = json.loads(text)
    from autograder.expected import _array_to_json

    for answer in doc["answers"].values():
        if "array" in answer and np.dtype(answer["array"]["dtype"]).kind == "f":
            answer["array"] = _array_to_json(_array_from_json(answer["array"]) * factor)
        elif "float" in answer:
            answer["float"] *= factor
    return json.dumps(doc)


def test_recordings_that_differ_in_the_last_bits_are_the_same(ex01_recording):
    assert _perturbed(ex01_recording, 1 + 4e-15) != ex01_recording
    assert differences(ex01_recording, _perturbed(ex01_recording, 1 + 4e-15)) == []


def test_recordings_that_differ_beyond_the_checks_tolerance_are_reported(ex01_recording):
    problems = differences(ex01_recording, _perturbed(ex01_recording, 1.001))
    assert problems and all("values differ" in p for p in problems)


def test_an_integer_answer_must_match_exactly():
    old = json.dumps({"answers": {"k": {"int": 4}}, "signatures": {}})
    new = json.dumps({"answers": {"k": {"int": 5}}, "signatures": {}})
    assert differences(old, new) == ["answer k: 4 -> 5"]


def _copy_checkout(tmp_path: Path) -> Path:
    """A second checkout of the repository: what release reads and writes, nothing installed."""
    copy = tmp_path / "copy"
    for folder in ("solutions", "assignments", "autograder/expected"):
        shutil.copytree(ROOT / folder, copy / folder)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_a_solution_that_changes_an_answer_fails_the_drift_check(tmp_path):
    copy = _copy_checkout(tmp_path)
    solution = copy / "solutions" / "ex01_convolution.py"
    text = solution.read_text()
    edited = text.replace("return float(np.sum(window * kernel) + bias)", "return float(np.sum(window * kernel) + 2 * bias)")
    assert edited != text
    solution.write_text(edited)
    problems = check_release(copy / "solutions", copy / "assignments")
    assert any("ex01_convolution.json differs from what solutions/ gives" in p for p in problems), problems


def test_release_writes_into_the_checkout_it_is_run_in(tmp_path, monkeypatch, capsys):
    copy = _copy_checkout(tmp_path)
    recording = copy / "autograder" / "expected" / "ex02_pooling.json"
    recording.unlink()
    (copy / "assignments" / "ex01_convolution.py").write_text("edited by hand\n")
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "autograder" / "expected").glob("*.json")}
    monkeypatch.chdir(copy / "solutions")  # anywhere inside the copy
    assert main(["release"]) == 0
    out = capsys.readouterr().out
    assert f"recorded answers: {copy / 'autograder' / 'expected'}" in out
    assert recording.exists() and f"wrote {recording}" in out
    assert check_release(copy / "solutions", copy / "assignments") == []
    assert before == {p: p.stat().st_mtime_ns for p in (ROOT / "autograder" / "expected").glob("*.json")}


def test_release_leaves_a_recording_alone_when_its_answers_agree(tmp_path, monkeypatch, capsys):
    copy = _copy_checkout(tmp_path)
    recording = copy / "autograder" / "expected" / "ex01_convolution.json"
    recording.write_text(_perturbed(recording.read_text(), 1 + 4e-15))
    other_cpu = recording.read_text()
    monkeypatch.chdir(copy)
    assert main(["release"]) == 0
    assert f"wrote {recording}" not in capsys.readouterr().out
    assert recording.read_text() == other_cpu


def test_release_outside_a_checkout_says_where_it_would_write(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    assert main(["release", "--solutions", str(tmp_path / "solutions"), "--check"]) == 2
    assert "no autograder/ folder beside it" in capsys.readouterr().err


def test_recordings_cover_every_numpy_exercise():
    names = {p.stem for p in recordings(ROOT / "solutions", Path("x"))}
    assert names == set(NUMPY_EXERCISES)


# ------------------------------------------------------------ after a plain install


def test_a_missing_optional_package_names_the_extra_that_installs_it():
    from conftest import missing_reason

    assert missing_reason("numpy") is None
    assert missing_reason("nbgrader_not_here") == "needs nbgrader_not_here: pip install -e '.[dev]'"


def test_every_optional_package_the_tests_name_is_in_an_extra():
    import tomllib

    from conftest import EXTRAS

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for module, extra in EXTRAS.items():
        assert any(req.split(">")[0].split("[")[0].split("=")[0] == module for req in extras[extra]), (module, extra)


if __name__ == "__main__":
    runs = all_runs()
    for run in runs:
        total = sum(s for scores in run["scores"].values() for _, s, _ in scores)
        print(f"OPENBLAS_CORETYPE={run['asked']:<12} kernel {run['kernel']:<12} threads {run['threads']}  "
              f"score {total:g}  drift {len(run['drift'])}")
    print(f"largest difference between recordings: {largest_difference(runs):.3g}")
