"""`cnnex list | check | release --check` from a student's and a maintainer's point of view."""

from __future__ import annotations

import json
from pathlib import Path

from autograder.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_list_shows_exercises_with_points(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "ex01_convolution" in out and "public" in out and "hidden points" in out


def test_check_untouched_copy_scores_zero_with_a_message_per_function(capsys, tmp_path):
    target = tmp_path / "results.json"
    assert main(["check", "ex01", str(ROOT / "assignments/ex01_convolution.ipynb"), "--json", str(target)]) == 1
    out = capsys.readouterr().out
    for function in ("conv_output_size", "zero_pad", "conv_single_step", "conv2d"):
        assert f"`{function}` is not implemented yet" in out
    assert "ex01_convolution: 0/13 points" in out
    doc = json.loads(target.read_text())
    assert doc["score"] == 0 and doc["max_score"] == 13
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(doc["tests"][0])
    assert all(t["name"].split(":")[0] in out for t in doc["tests"])


def test_check_solution_scores_full_marks(capsys):
    assert main(["check", "1", str(ROOT / "solutions/ex01_convolution.py")]) == 0
    assert "ex01_convolution: 13/13 points" in capsys.readouterr().out


def test_check_finds_the_file_in_the_current_folder(capsys, monkeypatch, tmp_path):
    (tmp_path / "ex01_convolution.py").write_text((ROOT / "solutions/ex01_convolution.py").read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["check", "ex01"]) == 0
    assert "13/13" in capsys.readouterr().out


def test_unknown_exercise_and_missing_file_are_clear_errors(capsys, monkeypatch, tmp_path):
    assert main(["check", "ex99", "x.py"]) == 2
    assert "Unknown exercise 'ex99'" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["check", "ex01"]) == 2
    assert "Give the path: cnnex check ex01_convolution PATH" in capsys.readouterr().err


def test_release_check_reports_sync(capsys):
    assert main(["release", "--check"]) == 0
    assert "in sync" in capsys.readouterr().out
