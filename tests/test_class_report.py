"""The class report: what the class got wrong, counted exactly, shown on one safe page.

A generated class (`helpers_class`: 30 ex01 submissions made from the reference and known
mistakes in known proportions) must give exactly those counts, in process (fast) and
through `cnnex grade` in the sandbox (slow, with the page rendered in Chromium).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from helpers_class import EXPECTED, SIZE, write_class
from helpers_exercises import solution_path

from autograder import exercises
from autograder.checks import Result
from autograder.cli import main
from autograder.errors import GraderError
from autograder.grading import Options, grade
from autograder.loading import load
from autograder.reports import class_report, mistakes
from autograder.reports.class_page import page
from autograder.reports.snippets import MAX_NODES, excerpt, function_sources
from autograder.runner import check_file

ROOT = Path(__file__).resolve().parent.parent
EX01 = exercises.get("ex01")


def graded_in_process(folder: Path) -> tuple[list[dict], dict]:
    """The class's table and data as `cnnex grade` gathers them, checked in this process (each distinct file once)."""
    records, seen = {}, {}
    for path in sorted(folder.glob("*.py")):
        text = path.read_text()
        if text not in seen:
            report = check_file(EX01, path, hidden=True)
            functions = function_sources(load(path).trees, EX01.functions)
            seen[text] = class_report.submission_record(report.results, functions)
        records[path.stem] = seen[text]
    return class_report.gather(EX01.name, records, {})


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    names = write_class(folder)
    table, data = graded_in_process(folder)
    return names, table, data


def counts(summary) -> dict[tuple[str, str], int]:
    return {(m.function, m.mistake): len(m.submissions) for f in summary.functions for m in f.mistakes}


def assert_counts_are_the_generated_proportions(summary, names):
    assert summary.size == SIZE == len(names)
    assert counts(summary) == EXPECTED
    for f in summary.functions:
        for m in f.mistakes:
            assert m.submissions == sorted(n for n, made in names.items() if m.mistake in made)
            assert summary.share(len(m.submissions)) == EXPECTED[f.name, m.mistake] / SIZE
            assert m.hint and m.hint == next(x.hint for x in EX01.mutants[f.name] if x.name == m.mistake)
        assert [len(m.submissions) for m in f.mistakes] == sorted((len(m.submissions) for m in f.mistakes), reverse=True)
    assert summary.not_implemented == {f: 1 for f in EX01.functions}
    # the only conv2d answers no mutant explains are the two that double the bias
    assert {u.count for u in summary.unnamed if u.function == "conv2d"} == {2}


# --------------------------------------------------------------------------- counts


def test_generated_class_counts_equal_its_proportions(generated):
    names, table, data = generated
    summary = class_report.summarise(table, data)
    assert_counts_are_the_generated_proportions(summary, names)
    full = sum(1 for made in names.values() if not made)
    assert sorted(summary.totals).count(EX01.max_score()) == full
    assert summary.totals[list(names).index("s29")] == 0  # the stub


def test_each_mistake_shows_the_changed_lines_of_the_most_frequent_code(generated):
    _, table, data = generated
    summary = class_report.summarise(table, data)
    flipped = next(m for f in summary.functions for m in f.mistakes if m.mistake == "flipped_kernel")
    ((text, is_diff, n),) = flipped.examples  # six identical submissions: one excerpt, counted six times
    assert is_diff and n == 6
    assert "+    weights = kernel[::-1, ::-1].reshape(kh * kw * c, f)" in text.splitlines()
    assert "-    weights = kernel.reshape(kh * kw * c, f)" in text.splitlines()
    assert "BEGIN SOLUTION" not in text and '"""' not in text


def test_the_page_says_what_the_class_got_wrong(generated):
    _, table, data = generated
    html = page(class_report.summarise(table, data))
    text = visible(html)
    assert re.search(r"flipped_kernel .*? 6 20%", text)
    assert re.search(r"step_no_bias .*? 3 10%", text)
    assert "Wrong answers no hint explains" in text and "conv2d: int and tuple zero padding" in text
    assert "30 submissions graded" in text
    assert html.count('src="data:image/png;base64,') == 2
    assert_self_contained(html)


def visible(html: str) -> str:
    """The page's text with tags dropped and white space collapsed (style included, it does not matter)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


class Tags(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_self_contained(html: str) -> None:
    """No script, no event handler, nothing fetched from elsewhere: as a browser parses the page."""
    tags = Tags(html).tags
    assert {tag for tag, _ in tags} <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
                                        "nav", "ul", "li", "a", "img", "table", "tr", "th", "td", "code", "span",
                                        "strong", "em", "br", "div", "pre"}
    for _, attrs in tags:
        assert not [a for a in attrs if a.startswith("on")]
        for key in ("src", "href"):
            assert attrs.get(key) is None or attrs[key].startswith(("data:image/png;base64,", "#")), attrs


# --------------------------------------------------------------------------- untrusted text, anonymised code


HOSTILE = "</pre><script>alert(1)</script><img src=x onerror=alert(2)>"


def test_text_from_submissions_and_files_is_escaped():
    record = {"functions": {"conv2d": f"def conv2d(images, kernel):\n    return '{HOSTILE}'"}, "measurements": {}}
    table = [
        {"submission": HOSTILE, "function": "conv2d", "check": "conv2d: valid padding, stride 1", "hidden": "false",
         "status": "TIMEOUT", "score": "0", "max_score": "2", "mistake": ""},
        {"submission": "bob", "function": "conv2d", "check": "conv2d: valid padding, stride 1", "hidden": "false",
         "status": "failed", "score": "0", "max_score": "2", "mistake": HOSTILE},
    ]
    data = {"exercise": "ex01_convolution", "submissions": {"bob": record}, "not_graded": {"x": HOSTILE}}
    html = page(class_report.summarise(table, data))
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert_self_contained(html)


def test_snippets_drop_comments_and_docstrings():
    student = '''
def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
    """Alice Smith, student 12345"""
    # TODO ask Prof. Jones
    return images  # alice@example.org
'''
    (text,) = function_sources([("cell 1", ast.parse(student))], ["conv2d"]).values()
    assert "Alice" not in text and "Jones" not in text and "alice@" not in text
    assert text == "def conv2d(images, kernel, bias=None, strides=1, padding='valid'):\n    return images"


def test_a_rewritten_function_is_shown_whole_and_a_huge_one_not_at_all():
    reference = "def f(x):\n    a = x + 1\n    b = a * 2\n    return b"
    small_change = "def f(x):\n    a = x + 1\n    b = a * 3\n    return b"
    rewritten = "def f(x):\n    return (x + 1) * 3"
    assert excerpt(small_change, reference) == ("…\n     a = x + 1\n-    b = a * 2\n+    b = a * 3\n     return b", True)
    first_line = "def f(y):\n    a = y + 1\n    b = a * 2\n    return b"
    assert excerpt(first_line, reference)[0].startswith("-def f(x):")  # nothing above it: no "…"
    assert excerpt(rewritten, reference) == (rewritten, False)
    huge = "def f(x):\n" + "    x = 1\n" * MAX_NODES
    assert function_sources([("f.py", ast.parse(huge))], ["f"]) == {}


# --------------------------------------------------------------------------- sections


def row(sub, check, status="failed", mistake="", score=0, top=1):
    return {"submission": sub, "function": check.split(":")[0], "check": check, "hidden": "false",
            "status": status, "score": str(score), "max_score": str(top), "mistake": mistake}


def test_checks_most_submissions_fail_without_a_named_mistake_come_first_and_are_highlighted():
    table = [row(f"s{i}", "f: a", mistake="m" if i == 0 else "") for i in range(4)]
    table += [row(f"s{i}", "f: b", status="passed" if i else "failed", score=1 if i else 0) for i in range(4)]
    table += [row(f"s{i}", "f: c", status="ERROR") for i in range(4)]  # raised: not a wrong answer
    summary = class_report.summarise(table, {"exercise": "ex99_none", "submissions": {}, "not_graded": {}})
    assert [(u.check, u.count) for u in summary.unnamed] == [("f: a", 3), ("f: b", 1)]
    html = page(summary)
    assert html.count('class="majority"') == 1
    assert re.search(r'<tr class="majority"><td>f: a', html)


def test_timeouts_crashes_policy_and_ungraded_submissions_are_listed_by_name():
    table = [row("ann", "f: a", "TIMEOUT"), row("ann", "f: b", "CRASHED"), row("ben", "f: a", "POLICY"),
             row("cy", "f: a", "passed", score=1), row("cy", "f: b", "NOT_IMPLEMENTED")]
    data = {"exercise": "ex99_none", "submissions": {}, "not_graded": {"dot": "the grader failed"}}
    summary = class_report.summarise(table, data)
    assert summary.trouble == {"TIMEOUT": ["ann"], "CRASHED": ["ann"], "POLICY": ["ben"]}
    assert summary.not_implemented == {"f": 1} and summary.size == 3
    text = visible(page(summary))
    assert "TIMEOUT 1 ann" in text and "NOT GRADED 1 dot (the grader failed)" in text


def test_keras_measurements_are_kept_as_plain_numbers_and_drawn():
    history = {"loss": [2.0, 1.0, float("nan")], "accuracy": [0.5, 0.8], "x" * 100: [1.0], "bad": "no"}
    results = [
        Result("build_cnn: a", "build_cnn", 0, 1, "failed", "", artifacts={"params": 12_345}, mistake="dense_only"),
        Result("build_cnn: b", "build_cnn", 0, 3, "failed", "", artifacts={"accuracy": 0.9, "history": history}),
        Result("build_cnn: c", "build_cnn", 0, 3, "failed", "", artifacts={"accuracy": True, "params": 1e30}),
    ]
    record = class_report.submission_record(results, {"build_cnn": "def build_cnn():\n    pass"})
    assert record["measurements"] == {"params": 12_345, "accuracy": 0.9, "history": {"accuracy": [0.5, 0.8]}}
    assert record["functions"] == {"build_cnn": "def build_cnn():\n    pass"}
    data = {"exercise": "ex04_keras_cnn", "submissions": {}, "not_graded": {}}
    table = []
    for i in range(5):
        name = f"s{i}"
        data["submissions"][name] = json.loads(json.dumps(record))
        data["submissions"][name]["measurements"]["accuracy"] = 0.5 + i / 10
        table.append(row(name, "build_cnn: a", "passed", score=1))
    html = page(class_report.summarise(table, data))
    assert html.count('src="data:image/png;base64,') == 4  # scores, per function, scatter, curves
    assert "5 models trained; median held-out accuracy 70.0%" in html


# --------------------------------------------------------------------------- files, shards, command line


def test_report_data_of_shards_merges_into_the_whole_class(generated, tmp_path):
    _, table, data = generated
    whole = tmp_path / "whole"
    whole.mkdir()
    class_report.write_data(whole, table, data)
    shards = []
    for i in range(3):
        folder = tmp_path / f"shard{i}"
        folder.mkdir()
        mine = {n for j, n in enumerate(sorted(data["submissions"])) if j % 3 == i}
        class_report.write_data(folder, [r for r in table if r["submission"] in mine],
                                {**data, "submissions": {n: r for n, r in data["submissions"].items() if n in mine}})
        shards.append(folder)
    class_report.merge(shards, tmp_path / "merged")
    merged_table, merged_data = class_report.load(tmp_path / "merged")
    whole_table, whole_data = class_report.load(whole)
    assert sorted(merged_table, key=str) == sorted(whole_table, key=str)
    assert merged_data == whole_data
    assert (tmp_path / "merged" / "report.html").read_text() == page(class_report.summarise(whole_table, whole_data))


def test_merge_refuses_report_data_of_different_exercises(generated, tmp_path):
    _, table, data = generated
    for name, exercise in (("a", "ex01_convolution"), ("b", "ex02_pooling")):
        (tmp_path / name).mkdir()
        class_report.write_data(tmp_path / name, table[:1], {**data, "exercise": exercise})
    with pytest.raises(GraderError, match="different exercises"):
        class_report.merge([tmp_path / "a", tmp_path / "b"], tmp_path / "out")


def test_mistakes_csv_has_a_row_per_submission_and_check(generated, tmp_path):
    _, table, _ = generated
    mistakes.write(tmp_path / "mistakes.csv", table)
    with open(tmp_path / "mistakes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == SIZE * len(EX01.checks)
    flipped = {r["check"]: r for r in rows if r["submission"] == "s09"}  # the first flipped kernel
    assert flipped["conv2d: valid padding, stride 1"]["mistake"] == "flipped_kernel"
    assert {r["hidden"] for r in flipped.values()} == {"true", "false"}
    assert mistakes.read(tmp_path / "mistakes.csv") == rows


def test_cnnex_report_without_report_data_says_what_is_missing(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "mistakes.csv" in capsys.readouterr().err


def test_cnnex_grade_writes_the_mistake_of_each_check_and_the_report(tmp_path, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(solution_path("ex01"), folder / "ada.py")
    flipped = write_class(tmp_path / "generated")
    shutil.copy(tmp_path / "generated" / f"{next(n for n, m in flipped.items() if m == ('flipped_kernel',))}.py",
                folder / "bob.py")
    (folder / "bob.py").write_text("# Bob Jones, student 4711\n" + (folder / "bob.py").read_text())
    out = tmp_path / "grades"
    assert main(["grade", "ex01", str(folder), "--out", str(out), "--jobs", "1"]) == 0
    assert "report.html" in capsys.readouterr().out
    bob = json.loads((out / "bob" / "results.json").read_text())
    assert {t["name"]: t["mistake"] for t in bob["tests"]}["conv2d: valid padding, stride 1"] == "flipped_kernel"
    assert {t["mistake"] for t in json.loads((out / "ada" / "results.json").read_text())["tests"]} == {None}
    record = json.loads((out / "bob" / "grading.json").read_text())["report"]
    assert list(record["functions"]) == ["conv2d"] and "Bob" not in json.dumps(record)
    html = (out / "report.html").read_text()
    assert "flipped_kernel" in html and "Bob" not in html
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").read_text() == html


def test_a_report_that_fails_costs_the_batch_nothing_else(tmp_path, monkeypatch):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(solution_path("ex01"), folder / "ada.py")

    def broken(*args):
        raise ValueError("a bug in the report")

    monkeypatch.setattr(class_report, "summarise", broken)
    stream = io.StringIO()
    summary = grade("ex01", [folder], tmp_path / "out", Options(jobs=1), stream=stream)
    assert [o.score for o in summary.graded] == [EX01.max_score()]
    assert (tmp_path / "out" / "gradebook.csv").exists() and (tmp_path / "out" / "mistakes.csv").exists()
    assert "class report not written: ValueError: a bug in the report" in stream.getvalue()


# --------------------------------------------------------------------------- nbgrader


def recipe() -> str:
    """The shell block of docs/nbgrader.md that builds the class report from nbgrader's submitted/ folder."""
    text = (ROOT / "docs" / "nbgrader.md").read_text()
    match = re.search(r"<!-- class report recipe -->\s*```console\n(.*?)```", text, re.S)
    assert match, "docs/nbgrader.md has no class report recipe"
    return "\n".join(line[2:] for line in match.group(1).splitlines() if line.startswith("$ "))


@pytest.mark.slow
def test_the_nbgrader_recipe_reports_on_submitted_notebooks_by_student_id(tmp_path):
    for student in ("alice", "bob"):
        for exercise in ("ex01_convolution", "ex02_pooling"):
            folder = tmp_path / "course" / "submitted" / student / exercise
            folder.mkdir(parents=True)
            shutil.copy(ROOT / "assignments" / f"{exercise}.ipynb", folder)
    solved = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(solution_path("ex01").read_text())])
    nbformat.write(solved, tmp_path / "course/submitted/alice/ex01_convolution/ex01_convolution.ipynb")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "-euc", recipe()], cwd=tmp_path / "course", capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    table, _ = class_report.load(tmp_path / "course" / "reports" / "ex01_convolution")
    totals = {}
    for r in table:
        totals[r["submission"]] = totals.get(r["submission"], 0) + float(r["score"])
    assert totals == {"alice": EX01.max_score(), "bob": 0.0}


# --------------------------------------------------------------------------- the whole path (slow)


@pytest.mark.slow
@pytest.mark.requires("playwright")
def test_cnnex_grade_on_the_generated_class_counts_exactly_and_renders_in_chromium(tmp_path):
    names = write_class(tmp_path / "class")
    out = tmp_path / "grades"
    assert main(["grade", "ex01", str(tmp_path / "class"), "--out", str(out), "--jobs", "2"]) == 0
    summary = class_report.summarise(*class_report.load(out))
    assert_counts_are_the_generated_proportions(summary, names)
    assert summary.trouble == {} and summary.not_graded == {}
    shot = screenshot(out / "report.html", tmp_path / "report.png")
    assert shot["headings"][:2] == ["Scores", "Mistakes, function by function"]
    assert shot["images"] == 2 and all(w > 300 for w in shot["image_widths"])
    assert shot["height"] > 2000 and (tmp_path / "report.png").stat().st_size > 50_000
    if os.environ.get("CNNEX_UPDATE_SCREENSHOTS"):  # how docs/class_report.png is made
        from PIL import Image

        Image.open(tmp_path / "report.png").convert("RGB").quantize(256).save(ROOT / "docs" / "class_report.png", optimize=True)


def screenshot(page_path: Path, png: Path) -> dict:
    """Open the page in Chromium with JavaScript off; save a full-page PNG; what was laid out."""
    from playwright.sync_api import Error, sync_playwright

    system = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        try:  # the system's Chromium, else the one `playwright install chromium` fetched
            browser = p.chromium.launch(executable_path=system,
                                        args=["--no-sandbox"] if os.geteuid() == 0 else [])
        except Error as err:
            pytest.skip(f"no Chromium to render the page in ({str(err).splitlines()[0]})")
        try:
            view = browser.new_page(viewport={"width": 1200, "height": 900}, java_script_enabled=False)
            view.goto(page_path.as_uri())
            view.screenshot(path=str(png), full_page=True)
            images = view.locator("img")
            return {
                "headings": [h.strip() for h in view.locator("h2").all_inner_texts()],
                "images": images.count(),
                "image_widths": [box["width"] for box in (images.nth(i).bounding_box() for i in range(images.count()))],
                "height": view.locator("body").bounding_box()["height"],
            }
        finally:
            browser.close()
