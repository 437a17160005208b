"""Batch grading for instructors: every submission, isolated, in parallel, resumable.

`grade(exercise, paths, out)` finds the submissions (files, folders, LMS zips), keeps
those of this shard, skips those already graded with the same file, exercise and
grader version, and grades the rest, `jobs` at a time. Each submission runs in its own
sandboxed child (see `autograder.isolation`); the checks, the reference solution and
every score stay in the grader's processes. For each submission it writes, atomically:

    OUT/<name>/results.json    Gradescope's schema, hidden checks included
    OUT/<name>/feedback.html   readable feedback with hints (and training curves)
    OUT/<name>/grading.json    what was graded (file hash, grader version): the resume key; and
                               the submission's record (`report`: every check's status, score
                               and mistake, anonymised code, measurements), from which the
                               gradebook and the class report are made

and at the end `OUT/gradebook.csv` with one row per submission of this run, and the class
report: `OUT/mistakes.csv`, `OUT/report_data.json`, `OUT/report.html` (see `reports.class_report`).
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import hashlib
import importlib.util
import io
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import autograder
from autograder import exercises, plugins
from autograder.checks import Exercise
from autograder.errors import GraderError
from autograder.isolation.proxy import Budget, IsolatedStudent
from autograder.isolation.zygote import Zygote
from autograder.probes import probes_for
from autograder.reference import load_reference, solution_path
from autograder.resources import BEHAVIOUR
from autograder.reports import class_report, gradebook, safe
from autograder.reports.gradescope import results_json, write_atomic, write_results
from autograder.reports.html import feedback_page
from autograder.reports.progress import Progress
from autograder.pipeline import Checking, Report, unloadable
from autograder.submissions import Skipped, Submission, collect, in_shard, safe_name


@dataclasses.dataclass
class Options:
    """How to grade.

    Attributes:
        timeout: seconds per check (default: the exercise's `Resources.timeout`).
        memory_mb: memory the student's code may allocate (default: `Resources.memory_mb`).
        jobs: submissions graded at the same time (default: `Resources.jobs`, else one per CPU).
        budget: seconds one submission may take in all (default: `Resources.budget`).
        shard: `(index, count)`: grade only the submissions whose name hashes to `index`.
        force: regrade even what is already graded.
        isolation: which protections to use where available (`mounts`, `user`, `landlock`).
    """

    timeout: float | None = None
    memory_mb: int | None = None
    jobs: int | None = None
    budget: float | None = None
    shard: tuple[int, int] | None = None
    force: bool = False
    isolation: dict = dataclasses.field(default_factory=dict)

    def resolved(self, exercise: Exercise) -> "Options":
        res = exercise.resources
        return dataclasses.replace(
            self,
            timeout=float(self.timeout or res.timeout),
            memory_mb=int(self.memory_mb or res.memory_mb),
            jobs=max(int(self.jobs or res.default_jobs), 1),
            budget=float(self.budget or res.budget),
        )


@dataclasses.dataclass
class Outcome:
    """What happened to one submission in this run."""

    name: str
    score: float | None = None
    max_score: float = 0.0
    seconds: float = 0.0
    skipped: bool = False
    error: str = ""
    statuses: dict = dataclasses.field(default_factory=dict)
    protections: list = dataclasses.field(default_factory=list)
    record: dict | None = None  # what the gradebook and the class report keep (`class_report.submission_record`)


@dataclasses.dataclass
class Summary:
    """The whole run."""

    exercise: str
    out: Path
    outcomes: list[Outcome]
    seconds: float
    protections: list[str]

    @property
    def graded(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.skipped and not o.error]

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.skipped]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error]


# --------------------------------------------------------------------------- keys


def grader_version(exercise: Exercise) -> str:
    """A hash of what decides a score: every module of the grader, the data library, the solution.

    The whole `autograder` package counts (engine, loader, policy, isolation, checks of
    every exercise) and `cnnexercises` too (the Keras exercises train on its data), and the
    checks and probes of a plug-in folder for an exercise that comes from one, so a change
    to any of them regrades on resume.
    """
    h = hashlib.sha256(autograder.__version__.encode())
    roots = [Path(autograder.__file__).parent]
    folder = plugins.folder_of(exercises.checks_file(exercise.name))
    if folder is not None:
        roots += [folder / "exercises", folder / "probes"]
    spec = importlib.util.find_spec("cnnexercises")
    if spec is not None and spec.submodule_search_locations:
        roots += [Path(p) for p in spec.submodule_search_locations]
    files = sorted(f for root in roots for f in root.rglob("*.py"))
    files.append(solution_path(exercise.name))
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes() if f.exists() else b"-")
    return h.hexdigest()[:16]


def submission_key(exercise: Exercise, sub: Submission, version: str, options: Options) -> str:
    """Same key, same grade: the file's hash, the exercise, the grader version and the limits."""
    text = f"{exercise.name}|{sub.sha256}|{version}|{options.timeout:g}|{options.memory_mb}|{options.budget:g}"
    return hashlib.sha256(text.encode()).hexdigest()


def already_graded(folder: Path, key: str) -> bool:
    try:
        meta = json.loads((folder / "grading.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("key") == key and (folder / "results.json").exists()


# --------------------------------------------------------------------------- one submission


class Grader:
    """Grades the submissions of one exercise, one at a time, each in a fresh sandboxed child.

    Args:
        exercise: the exercise's name.
        options: resolved `Options`.
        hide: paths the children must not see (besides the repository).
        out: the output folder.
    """

    def __init__(self, exercise: str, options: Options, hide: list[str], out: str | Path):
        self.exercise = exercises.get(exercise)
        self.options = options.resolved(self.exercise)
        # Checks that judge behaviour never call the reference (`reference_for` gives None);
        # the others compare with the solution itself, never with recordings.
        behaviour = self.exercise.resources.oracle == BEHAVIOUR
        self.reference = None if behaviour else load_reference(self.exercise.name)
        self.version = grader_version(self.exercise)
        self.hide = list(hide)
        self.out = Path(out)
        self._zygote: Zygote | None = None
        if os.geteuid() != 0:
            _not_dumpable()  # a child of the same user cannot read or trace this process

    @property
    def zygote(self) -> Zygote:
        if self._zygote is None or not self._zygote.alive():
            probes_for(self.exercise.name)  # fails here, in the grader, if the probes module is broken
            cpus = os.cpu_count() or 1
            threads = max(cpus // self.options.jobs, 1) if self.options.jobs > 1 else None  # no oversubscription
            self._zygote = Zygote(
                self.exercise.name, hide=self.hide + [str(self.out)], preload=list(self.exercise.resources.preload),
                threads=threads, **self.options.isolation,
            )
        return self._zygote

    def close(self) -> None:
        if self._zygote is not None:
            self._zygote.close()
            self._zygote = None

    def key(self, sub: Submission) -> str:
        return submission_key(self.exercise, sub, self.version, self.options)

    def report(self, path: str | Path, data: bytes | None = None) -> tuple[Report, list[str]]:
        """Check one file in a sandboxed child: its `Report` and the protections its child had.

        Reading, parsing and the policy happen in the child too (under its limits), before
        any of the student's code runs there.

        Raises:
            GraderError: the grader itself failed (the isolation server died); nothing is decided.
        """
        start = time.perf_counter()
        ex, path = self.exercise, Path(path)
        filename = safe_name(path.stem)[:60] + (path.suffix if path.suffix in (".py", ".ipynb") else ".py")
        budget = Budget(
            self.options.timeout,
            self.options.timeout,
            self.options.memory_mb,
            max_processes=ex.resources.max_processes,
            max_file_mb=ex.resources.max_file_mb,
            submission=self.options.budget,
        )
        source = path.read_bytes() if data is None else data  # `grade` has read it already, to hash it
        with IsolatedStudent(self.zygote, ex, filename, source, budget) as student:
            report = Checking(ex, _Opened(student), self.reference).report(hidden=True)
        if student.failure is not None:
            raise student.failure
        report.execution_time = time.perf_counter() - start
        return report, student.sandbox

    def contained(self, path: str | Path, data: bytes | None = None) -> tuple[Report, list[str]]:
        """`report`, made safe to write: whatever the submission makes the grader's own code
        do on it (an exception, text that cannot be encoded) becomes a report with a clear
        message, and every text of it is bounded and printable.

        Raises:
            GraderError: the isolation itself failed; nothing is decided.
        """
        start = time.perf_counter()
        try:
            report, sandbox = self.report(path, data)
        except GraderError:
            self.close()
            raise
        except Exception as err:  # the grader's own code failed on this file: contained, and said so
            self.close()
            report, sandbox = unloadable(self.exercise, _grader_failed(err), hidden=True), []
            report.execution_time = time.perf_counter() - start
        report.results = [safe.result(r) for r in report.results]
        report.problems = [safe.text(p, 4000) for p in report.problems[:100]]
        return report, sandbox

    def grade(self, sub: Submission) -> Outcome:
        """Grade `sub` and write its results; a failure of the grader itself is returned, not raised.

        Whatever the submission makes any step do, in this process too (an exception, text
        that cannot be encoded, a value too large to format), it gets a `results.json`
        with a clear status and message, and a rerun grades it the same way. Only a failure
        of the isolation itself (not the student's doing) leaves it NOT GRADED, to be
        graded again by the next run.
        """
        start = time.perf_counter()
        try:
            data = sub.path.read_bytes()
        except OSError as err:
            return Outcome(sub.name, error=f"the file could not be read ({type(err).__name__})",
                           seconds=time.perf_counter() - start)
        sub = dataclasses.replace(sub, sha256=hashlib.sha256(data).hexdigest())
        try:
            report, sandbox = self.contained(sub.path, data)
        except GraderError as err:
            return Outcome(sub.name, error=safe.text(err, 500), seconds=time.perf_counter() - start)
        try:
            record = self._write(sub, report, sandbox)
        except Exception as err:  # a full disk, a file system that refuses the name...
            return Outcome(sub.name, error=f"its results could not be written ({type(err).__name__}: "
                           f"{safe.text(err, 300)})", seconds=time.perf_counter() - start)
        statuses: dict[str, int] = {}
        for r in report.results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        protections = (self._zygote.protections + [f"missing: {m}" for m in self._zygote.missing]) if self._zygote else []
        return Outcome(sub.name, report.score, report.max_score, report.execution_time, statuses=statuses,
                       protections=protections, record=record)

    def _write(self, sub: Submission, report: Report, sandbox: list[str]) -> dict:
        folder = self.out / sub.name
        write_results(folder / "results.json", gradescope_document(report))
        title = f"{self.exercise.name} — {self.exercise.title}"
        write_atomic(folder / "feedback.html", feedback_page(title, sub.name, report.results, report.problems))
        record = class_report.submission_record(report.results, report.functions)
        meta = {
            "key": self.key(sub),
            "submission": sub.name,
            "source": sub.source or safe.text(sub.path),
            "sha256": sub.sha256,
            "exercise": self.exercise.name,
            "grader_version": self.version,
            "timeout": self.options.timeout,
            "memory_mb": self.options.memory_mb,
            "budget": self.options.budget,
            "score": report.score,
            "max_score": report.max_score,
            "sandbox": sandbox,
            class_report.RECORD: record,
        }
        write_atomic(folder / "grading.json", json.dumps(meta, indent=2) + "\n")
        return record


def gradescope_document(report: Report) -> dict:
    """A report as Gradescope's `results.json` document (its problems as the top-level output)."""
    output = ""
    if report.problems:
        output = "Problems while loading your file:\n" + "\n".join(f"- {p}" for p in report.problems)
    return results_json(report.results, report.execution_time, output)


class _Opened:
    """An isolated student as the pipeline's `Opened`, read live: a respawned child reloads the file."""

    def __init__(self, student: IsolatedStudent):
        self.student = student

    policy = property(lambda self: self.student.policy or {})
    problems = property(lambda self: self.student.problems)
    unreadable = property(lambda self: self.student.unreadable)
    functions = property(lambda self: self.student.functions)


def _grader_failed(err: BaseException) -> str:
    return (f"the grader could not check this file ({type(err).__name__}); nothing of it was scored. "
            "This happens with files the grader's limits refuse (very large or deeply nested code); "
            "submit the exercise's functions as ordinary code.")


def _not_dumpable() -> None:
    from autograder.isolation import sandbox

    sandbox.prctl(sandbox.PR_SET_DUMPABLE, 0)


# --------------------------------------------------------------------------- workers

_WORKER: Grader | None = None


def _start_worker(exercise: str, options: Options, hide: list[str], out: str, grader_pid: int) -> None:
    """A pool worker's start: die with the grader, however it dies, then build the `Grader`.

    The worker gets SIGKILL when the grader's process ends (SIGKILL included, where no
    clean-up code runs); its zygote dies with it the same way, and the zygote's children
    with the zygote. A grader that died before this line ran is noticed by the parent check.
    """
    global _WORKER
    from autograder.isolation import sandbox

    sandbox.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != grader_pid:
        os._exit(1)
    _WORKER = Grader(exercise, options, hide, out)


def _work(sub: Submission) -> Outcome:
    return _WORKER.grade(sub)


# --------------------------------------------------------------------------- the batch


def _skipped_name(index: int, item: Skipped) -> str:
    """A gradebook key for a skipped file: stable, and never a submission's folder name (`~`)."""
    return f"~skipped-{hashlib.sha256(f'{index}|{item.source}'.encode('utf-8', 'replace')).hexdigest()[:10]}"


def _write_problems(path: Path, skipped: list[Skipped]) -> None:
    """`problems.csv`: one line per file that was not graded as a submission, and why."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["source", "problem"])
    for item in skipped:
        writer.writerow([safe.csv_cell(item.source), safe.csv_cell(item.reason)])
    write_atomic(path, buf.getvalue())


def grade(
    exercise: str,
    paths: list[str | Path],
    out: str | Path,
    options: Options | None = None,
    stream=None,
) -> Summary:
    """Grade every submission under `paths` into `out`; see the module docstring.

    Args:
        exercise: "ex01", "ex01_convolution"...
        paths: files, folders and zips.
        out: the output folder (created).
        options: limits, jobs, shard.
        stream: where progress goes (stderr by default).

    Raises:
        GraderError: a path is missing or not a submission, or an archive is unsafe.
    """
    stream = stream or sys.stderr
    started = time.perf_counter()
    options = options or Options()
    ex = exercises.get(exercise)
    options = options.resolved(ex)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="cnnex-submissions-"))
    try:
        skipped: list[Skipped] = []
        subs = [s for s in collect(paths, scratch, skipped) if in_shard(s.name, options.shard)]
        for item in skipped:
            stream.write(f"skipped {safe.text(item.source, 300)}: {item.reason}\n")
        hide = [str(Path(p).resolve()) for p in paths] + [str(scratch)]
        grader = Grader(ex.name, options, hide, out)
        todo, outcomes = [], []
        for sub in subs:
            if not options.force and already_graded(out / sub.name, grader.key(sub)):
                outcomes.append(Outcome(sub.name, skipped=True))
            else:
                todo.append(sub)
        if outcomes:
            stream.write(f"{len(outcomes)} of {len(subs)} submissions already graded; grading the other {len(todo)}\n")
        progress = Progress(len(todo), stream)
        protections: list[str] = []

        def record(outcome: Outcome) -> None:
            if outcome.protections and not protections:
                protections.extend(outcome.protections)
                stream.write("isolation: " + "; ".join(outcome.protections) + "\n")
            if outcome.error:
                stream.write(f"\nnot graded: {outcome.name}: {safe.text(outcome.error, 500)}\n")
            outcomes.append(outcome)
            progress.advance()

        if options.jobs == 1 or len(todo) <= 1:
            try:
                for sub in todo:
                    record(grader.grade(sub))
            finally:
                grader.close()
        else:
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(
                max_workers=min(options.jobs, len(todo)),
                mp_context=context,
                initializer=_start_worker,
                initargs=(ex.name, options, hide, str(out), os.getpid()),
            ) as pool:
                futures = {pool.submit(_work, sub): sub for sub in todo}
                try:
                    for future in concurrent.futures.as_completed(futures):
                        try:
                            outcome = future.result()
                        except Exception as err:  # a worker process died: the submission is not graded
                            outcome = Outcome(futures[future].name, error=f"{type(err).__name__}: {err}")
                        record(outcome)
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
        progress.close()
        errors = {o.name: o.error for o in outcomes if o.error}
        # Graded now: the records in memory; graded by an earlier run: the record it kept.
        records = {o.name: o.record if not o.skipped else class_report.read_record(out / o.name)
                   for o in outcomes if not o.error}
        for name, value in records.items():
            if value is None:
                errors[name] = "its grading record is missing or unreadable: grade again with --force"
        rows = [
            gradebook.row(s.name, [c.name for c in ex.checks], records.get(s.name),
                          f"NOT GRADED: {errors[s.name]}" if s.name in errors else "", s.source)
            for s in subs
        ]
        rows += [gradebook.row(_skipped_name(i, item), [], None, f"SKIPPED: {item.reason}", item.source)
                 for i, item in enumerate(skipped)]
        _write_problems(out / "problems.csv", skipped)
        gradebook.write(out / "gradebook.csv", [c.name for c in ex.checks], rows)
        try:
            class_report.finish(out, ex.name, {s.name: records.get(s.name) for s in subs}, errors)
        except Exception as err:  # the class report is an extra: it never costs the batch its gradebook
            stream.write(f"class report not written: {type(err).__name__}: {safe.text(err, 300)}\n")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    order = {s.name: i for i, s in enumerate(subs)}
    outcomes.sort(key=lambda o: order.get(o.name, 0))
    return Summary(ex.name, out, outcomes, time.perf_counter() - started, protections)
