"""What the class got wrong: the data of the instructors' class report, and its counts.

While grading, each submission's `OUT/<name>/grading.json` gets a `report` (its record,
`submission_record`): every check's status, score and recognised mistake; the anonymised
source (see `snippets`; made by the child that parsed the file) of each function in which a
check recognised a known mistake, which the page shows as an example of that mistake; and
what the Keras checks measured (held-out accuracy, parameter count, training history). At
the end of a batch, `finish` gathers the records (in memory; from `grading.json` for the
submissions an earlier run graded) into three files:

    OUT/mistakes.csv       every check of every submission, with the mistake it recognised
    OUT/report_data.json   the exercise, each submission's code excerpts and measurements,
                           what was not graded
    OUT/report.html        the page (`class_page`)

`cnnex report DIR` rebuilds the page from the first two, and `cnnex gradebook merge`
merges them across shards. Everything read back is treated as untrusted: types are
checked and sizes bounded, and the page escapes every text.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import math
from pathlib import Path

from autograder.checks import CRASHED, ERROR, FAILED, MEMORY, NOT_IMPLEMENTED, POLICY, TIMEOUT, Result, mistake_hint
from autograder.errors import GraderError, UnknownExercise
from autograder.reports import mistakes
from autograder.reports.gradescope import write_atomic
from autograder.reports.snippets import MAX_CHARS, excerpt, reference_sources

RECORD = "report"  # its key in OUT/<name>/grading.json
DATA = "report_data.json"
PAGE = "report.html"
MISTAKES = "mistakes.csv"
TROUBLE = (TIMEOUT, MEMORY, CRASHED, POLICY, ERROR)  # not a wrong answer: the code did not run to the end
EXAMPLES = 2
MAX_EPOCHS = 1000
MAX_SERIES = 12


# --------------------------------------------------------------------------- per submission


def submission_record(results: list[Result], functions: dict[str, str]) -> dict:
    """What the gradebook and the class report keep of one submission (`report` in `OUT/<name>/grading.json`).

    Args:
        results: its check results.
        functions: the anonymised source of contract functions it defines.
    """
    named = {r.function for r in results if r.mistake}
    return {
        "checks": [
            {"check": r.name, "function": r.function, "hidden": bool(r.hidden), "status": r.status,
             "score": float(r.score), "max_score": float(r.max_score), "mistake": r.mistake or ""}
            for r in results
        ],
        "functions": {f: s for f, s in functions.items() if f in named},
        "measurements": measurements(r.artifacts for r in results),
    }


def read_record(folder: Path) -> dict | None:
    """The record of a submission graded by an earlier run (`OUT/<name>/grading.json`), checked; None if missing."""
    value = (read_json(folder / "grading.json") or {}).get(RECORD)
    return record(value) if isinstance(value, dict) and isinstance(value.get("checks"), list) else None


def measurements(artifacts) -> dict:
    """Held-out accuracy, parameter count and training history from the checks' artifacts, as plain numbers."""
    out: dict = {}
    for found in artifacts:
        found = found if isinstance(found, dict) else {}
        accuracy = _finite(found.get("accuracy"))
        if accuracy is not None and 0.0 <= accuracy <= 1.0:
            out["accuracy"] = accuracy
        params = found.get("params")
        if isinstance(params, int) and not isinstance(params, bool) and 0 <= params < 10**12:
            out["params"] = params
        history = _history(found.get("history"))
        if history:
            out["history"] = history
    return out


def _finite(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _history(value) -> dict[str, list[float]]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for name, series in list(value.items())[:MAX_SERIES]:
        if isinstance(name, str) and isinstance(series, list) and len(name) <= 60:
            points = [_finite(v) for v in series[:MAX_EPOCHS]]
            if points and all(p is not None for p in points):
                out[name] = points
    return out


def record(value) -> dict:
    """A submission's record as read back: only strings of bounded size and plain numbers survive."""
    value = value if isinstance(value, dict) else {}
    functions = value.get("functions") if isinstance(value.get("functions"), dict) else {}
    checks = value.get("checks") if isinstance(value.get("checks"), list) else []
    return {
        "checks": [_check(c) for c in checks[:1000] if isinstance(c, dict)],
        "functions": {str(f)[:100]: s[:MAX_CHARS] for f, s in functions.items() if isinstance(s, str)},
        "measurements": measurements([value.get("measurements")]),
    }


def _kept(value: dict) -> dict:
    """What report_data.json keeps of a record (its checks are the rows of mistakes.csv)."""
    return {"functions": value["functions"], "measurements": value["measurements"]}


def _check(value: dict) -> dict:
    return {
        "check": str(value.get("check", ""))[:300],
        "function": str(value.get("function", ""))[:100],
        "hidden": value.get("hidden") is True,
        "status": str(value.get("status", ""))[:40],
        "score": _finite(value.get("score")) or 0.0,
        "max_score": _finite(value.get("max_score")) or 0.0,
        "mistake": str(value.get("mistake") or "")[:100],
    }


def read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------- the class


def gather(exercise: str, records: dict[str, dict | None], errors: dict[str, str]) -> tuple[list[dict], dict]:
    """The class's table (mistakes.csv rows) and data (report_data.json) from each submission's record.

    Args:
        records: submission -> its record (`submission_record`, or as read back by `read_record`);
            None for one that has none.
        errors: submission -> why it was not graded.
    """
    table, kept, not_graded = [], {}, dict(errors)
    for name, value in records.items():
        if name in errors:
            continue
        if value is None:
            not_graded[name] = "no grading record"
            continue
        table += mistakes.rows(name, value["checks"])
        kept[name] = _kept(value)
    return table, {"exercise": exercise, "submissions": kept, "not_graded": not_graded}


def finish(out: str | Path, exercise: str, records: dict[str, dict | None], errors: dict[str, str]) -> Path:
    """Write mistakes.csv, report_data.json and report.html into `out` for the submissions' `records`."""
    out = Path(out)
    table, data = gather(exercise, records, errors)
    return write(out, table, data)


def write(out: Path, table: list[dict], data: dict) -> Path:
    """Write the three files of the class report into `out`; returns the page's path."""
    write_data(out, table, data)
    return write_page(out, table, data)


def write_data(out: Path, table: list[dict], data: dict) -> None:
    """Write mistakes.csv and report_data.json into `out`."""
    mistakes.write(out / MISTAKES, table)
    write_atomic(out / DATA, json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def write_page(out: Path, table: list[dict], data: dict) -> Path:
    """Write report.html into `out`; returns its path."""
    from autograder.reports.class_page import page

    write_atomic(out / PAGE, page(summarise(table, data)))
    return out / PAGE


def load(folder: str | Path) -> tuple[list[dict], dict]:
    """The table and data of a class report folder (written by `cnnex grade` or `cnnex gradebook merge`).

    Raises:
        GraderError: a file is missing or not what `cnnex grade` writes.
    """
    folder = Path(folder)
    table = mistakes.read(folder / MISTAKES)
    data = read_json(folder / DATA)
    if data is None or not isinstance(data.get("exercise"), str):
        raise GraderError(f"{folder / DATA} is missing or not written by `cnnex grade`")
    return table, _data(data)


def _data(data: dict) -> dict:
    submissions = data.get("submissions") if isinstance(data.get("submissions"), dict) else {}
    not_graded = data.get("not_graded") if isinstance(data.get("not_graded"), dict) else {}
    return {
        "exercise": str(data["exercise"])[:100],
        "submissions": {str(n)[:200]: _kept(record(r)) for n, r in submissions.items()},
        "not_graded": {str(n)[:200]: str(e)[:500] for n, e in not_graded.items()},
    }


def merge(folders: list[str | Path], out: str | Path) -> Path:
    """Merge the class report data of several output folders (shards) into `out` and write its page.

    Raises:
        GraderError: the folders grade different exercises, or disagree about a submission.
    """
    loaded = [load(f) for f in folders]
    exercises_seen = {data["exercise"] for _, data in loaded}
    if len(exercises_seen) != 1:
        raise GraderError(f"The folders grade different exercises: {sorted(exercises_seen)}")
    table = mistakes.merge([Path(f) / MISTAKES for f in folders])
    merged = {"exercise": exercises_seen.pop(), "submissions": {}, "not_graded": {}}
    for _, data in loaded:
        for key in ("submissions", "not_graded"):
            for name, value in data[key].items():
                if merged[key].get(name, value) != value:
                    raise GraderError(f"Submission {name!r} appears in two report_data.json with different data")
                merged[key][name] = value
    graded = {r["submission"] for r in table}
    merged["not_graded"] = {n: e for n, e in merged["not_graded"].items() if n not in graded}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return write(out, table, merged)


# --------------------------------------------------------------------------- the counts


@dataclasses.dataclass
class Mistake:
    """One known mistake of one function across the class."""

    function: str
    mistake: str
    hint: str
    submissions: list[str]
    checks: list[str]
    examples: list[tuple[str, bool, int]]  # (excerpt, is_diff, submissions that wrote exactly this)


@dataclasses.dataclass
class FunctionSummary:
    name: str
    max_score: float
    scores: list[float]  # one per graded submission
    mistakes: list[Mistake]


@dataclasses.dataclass
class Unnamed:
    """A check that submissions failed with a wrong answer that no known mistake explains."""

    check: str
    function: str
    hidden: bool
    count: int


@dataclasses.dataclass
class ClassSummary:
    """Everything the page shows; every count is of submissions."""

    exercise: str
    title: str
    graded: list[str]
    totals: list[float]
    max_score: float
    functions: list[FunctionSummary]
    unnamed: list[Unnamed]
    trouble: dict[str, list[str]]  # status -> submissions with at least one check in that status
    not_implemented: dict[str, int]  # function -> submissions where it is still a stub
    not_graded: dict[str, str]
    measurements: dict[str, dict]

    @property
    def size(self) -> int:
        return len(self.graded)

    def share(self, count: int) -> float:
        return count / self.size if self.size else 0.0


def summarise(table: list[dict], data: dict) -> ClassSummary:
    """Count, per function, the submissions that made each known mistake (most common first), and the rest."""
    name = data["exercise"]
    exercise, title = _exercise(name)
    graded = sorted({r["submission"] for r in table})
    order = list(exercise.functions) if exercise else []
    order += [f for f in dict.fromkeys(r["function"] for r in table) if f not in order]
    totals: dict[str, float] = collections.defaultdict(float)
    per_function: dict[str, dict[str, float]] = {f: collections.defaultdict(float) for f in order}
    max_per_function: dict[str, dict[str, float]] = {f: {} for f in order}
    made: dict[tuple[str, str], dict[str, list[str]]] = {}  # (function, mistake) -> submission -> checks
    unnamed: dict[str, set[str]] = collections.defaultdict(set)
    trouble: dict[str, set[str]] = collections.defaultdict(set)
    stubs: dict[str, set[str]] = collections.defaultdict(set)
    hidden: dict[str, bool] = {}
    for r in table:
        sub, function, check, status = r["submission"], r["function"], r["check"], r["status"]
        score, top = _float(r["score"]), _float(r["max_score"])
        totals[sub] += score
        per_function[function][sub] += score
        max_per_function[function][check] = top
        hidden[check] = r["hidden"] == "true"
        if r["mistake"]:
            made.setdefault((function, r["mistake"]), {}).setdefault(sub, []).append(check)
        elif status == FAILED:
            unnamed[check].add(sub)
        if status in TROUBLE:
            trouble[status].add(sub)
        elif status == NOT_IMPLEMENTED:
            stubs[function].add(sub)
    references = _references(name, order)
    submissions = data.get("submissions", {})
    functions = []
    for function in order:
        found = []
        for (f, mistake), who in made.items():
            if f != function:
                continue
            checks = list(dict.fromkeys(c for cs in who.values() for c in cs))
            sources = [submissions.get(s, {}).get("functions", {}).get(function) for s in sorted(who)]
            found.append(Mistake(
                function,
                mistake,
                mistake_hint(exercise, function, mistake) if exercise else "",
                sorted(who),
                checks,
                _examples([s for s in sources if s], references.get(function)),
            ))
        found.sort(key=lambda m: (-len(m.submissions), m.mistake))
        scores = [per_function[function].get(s, 0.0) for s in graded]
        functions.append(FunctionSummary(function, sum(max_per_function[function].values()), scores, found))
    unnamed_list = sorted(
        (Unnamed(c, c.split(":", 1)[0], hidden.get(c, False), len(who)) for c, who in unnamed.items()),
        key=lambda u: (-u.count, u.check),
    )
    not_graded = {n: e for n, e in data.get("not_graded", {}).items() if n not in totals}
    return ClassSummary(
        exercise=name,
        title=title,
        graded=graded,
        totals=[totals[s] for s in graded],
        max_score=sum(f.max_score for f in functions),
        functions=functions,
        unnamed=unnamed_list,
        trouble={s: sorted(trouble[s]) for s in TROUBLE if trouble.get(s)},
        not_implemented={f: len(stubs[f]) for f in order if stubs.get(f)},
        not_graded=not_graded,
        measurements={n: m["measurements"] for n, m in submissions.items() if n in totals and m.get("measurements")},
    )


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) else 0.0


def _exercise(name: str):
    from autograder import exercises

    try:
        ex = exercises.get(name)
    except UnknownExercise:
        return None, ""
    return ex, ex.title


def _references(exercise: str, functions: list[str]) -> dict[str, str]:
    from autograder.reference import solution_path

    try:
        source = solution_path(exercise).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, UnknownExercise):  # a page rebuilt from another checkout's data
        return {}
    return reference_sources(source, functions)


def _examples(sources: list[str], reference: str | None) -> list[tuple[str, bool, int]]:
    """The `EXAMPLES` most frequent different excerpts (the shorter first on a tie), with their frequency."""
    counts = collections.Counter(excerpt(s, reference) for s in sources)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], len(item[0][0]), item[0][0]))
    return [(text, is_diff, n) for (text, is_diff), n in ranked[:EXAMPLES]]
