"""Finding the submissions to grade: files, folders and `.zip` archives as LMSs export them.

Every `.py` and `.ipynb` file is a submission (hidden folders, `__pycache__`,
`.ipynb_checkpoints` and `__MACOSX` are skipped). Each gets a name that is safe as a
folder name, unique in the batch and never one of the grader's own files:

- a file given directly, or at the top of a folder: its stem (`alice.ipynb` -> `alice`);
- the only submission in a student's sub-folder (Moodle: `Alice Smith_123_assignsubmission_file_/ex01.ipynb`):
  that sub-folder's name;
- otherwise its path inside the folder, with `__` for `/`.

Names that are already safe are given first, so `bob.py` is always `bob` and `bob!.py`
becomes `bob-2`; a long name keeps its beginning and its end (where LMSs put the
student's name and id) around a short hash of the whole. Each `Submission` also keeps
its `source` (the file, or `archive.zip:member`), which the gradebook shows.

A `.zip` is extracted into a scratch folder first, safely: only `.py`/`.ipynb` members,
each to a short file name of its own (so no member name reaches the file system: no
absolute paths, `..`, links, over-long or undecodable names), with limits on their
number and size counted while reading. A bad member (too large, a duplicate, an archive
inside the archive, unreadable) costs that member only: it is skipped with a `Skipped`
line that the grader writes to `problems.csv` and to the gradebook.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from autograder.errors import GraderError

SUFFIXES = (".py", ".ipynb")
ARCHIVES = (".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar")
SKIPPED_FOLDERS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX"}
# files the grader writes next to the submissions' folders (the class report's among them)
RESERVED = {"gradebook.csv", "problems.csv", "mistakes.csv", "report_data.json", "report.html"}
MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 50 * 2**20
MAX_TOTAL_BYTES = 2 * 2**30
MAX_NAME = 100


@dataclasses.dataclass(frozen=True)
class Submission:
    """One file to grade.

    Attributes:
        name: unique, safe as a folder name (`OUT/<name>/results.json`).
        path: the file.
        sha256: of its bytes (with the exercise and grader version, the key for resuming).
        source: where it came from, for people (`class.zip:Alice_1_/ex01.py`).
    """

    name: str
    path: Path
    sha256: str
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A file that could not be taken as a submission, and why."""

    source: str
    reason: str


def safe_name(text: str) -> str:
    """`text` with anything but letters, digits, `.`, `_`, `-` replaced by `_`, at most `MAX_NAME` characters.

    A longer name keeps its first and last characters around a hash of the whole text,
    so two long names that differ anywhere stay different.
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-") or "submission"
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        keep = (MAX_NAME - len(digest) - 2) // 2
        name = f"{name[:keep]}-{digest}-{name[-keep:]}"
    return name


def shown(text: str) -> str:
    """A path or name as text that can be written anywhere (undecodable bytes as `\\xNN`)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# --------------------------------------------------------------------------- archives


def extract_zip(archive: Path, dest: Path, skipped: list[Skipped] | None = None) -> list[tuple[str, Path]]:
    """Extract the `.py`/`.ipynb` members of `archive` into a folder of `dest`.

    Returns:
        `(member path, extracted file)` for every member kept, in the archive's order.

    Raises:
        GraderError: not a zip file that can be read, or more than `MAX_MEMBERS` entries.
    """
    skipped = skipped if skipped is not None else []
    root = dest / hashlib.sha256(str(archive.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    root.mkdir(parents=True, exist_ok=True)
    label = shown(archive.name)
    total, kept, seen = 0, [], set()
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise GraderError(f"{label} has {len(members)} entries (limit {MAX_MEMBERS})")
            for info in members:
                member = _member_name(info)
                if member is None:
                    continue
                where = f"{label}:{shown(info.filename)}"
                if member.lower().endswith(ARCHIVES):
                    skipped.append(Skipped(where, "an archive inside the archive is not opened: "
                                                  "extract it and grade its files"))
                    continue
                if not member.endswith(SUFFIXES):
                    continue
                if member in seen:
                    skipped.append(Skipped(where, "the archive holds this file twice; the first copy is graded"))
                    continue
                if total >= MAX_TOTAL_BYTES:
                    skipped.append(Skipped(where, f"the archive expands beyond {MAX_TOTAL_BYTES // 2**30} GB"))
                    continue
                target = root / f"{len(kept):05d}{PurePosixPath(member).suffix}"
                try:
                    size = _copy_member(zf, info, target, min(MAX_MEMBER_BYTES, MAX_TOTAL_BYTES - total))
                except _TooLarge:
                    target.unlink(missing_ok=True)
                    skipped.append(Skipped(where, f"larger than {MAX_MEMBER_BYTES // 2**20} MB once extracted"))
                    continue
                except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError) as err:
                    target.unlink(missing_ok=True)
                    skipped.append(Skipped(where, f"could not be extracted ({type(err).__name__})"))
                    continue
                total += size
                seen.add(member)
                kept.append((member, target))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError) as err:
        raise GraderError(f"{label} is not a zip file that can be read ({type(err).__name__})") from None
    return kept


class _TooLarge(Exception):
    pass


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> int:
    size = 0
    with zf.open(info) as src, open(target, "xb") as out:
        while chunk := src.read(1 << 16):
            size += len(chunk)
            if size > limit:
                raise _TooLarge()
            out.write(chunk)
    return size


def _member_name(info: zipfile.ZipInfo) -> str | None:
    """The member's normalised relative path, or None to skip it (folders, links, unsafe paths)."""
    if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
        return None
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts or ":" in parts[0]:
        return None
    if any(p.startswith(".") or p in SKIPPED_FOLDERS for p in parts):
        return None
    return "/".join(parts)


# --------------------------------------------------------------------------- folders


def _files(folder: Path, skipped: list[Skipped]) -> list[tuple[str, Path]]:
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).parts
        if any(p.startswith(".") or p in SKIPPED_FOLDERS for p in rel):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        if path.name.lower().endswith(ARCHIVES):
            skipped.append(Skipped(shown(str(path)), "an archive inside a folder is not opened: "
                                                     "pass it to `cnnex grade` itself"))
        elif path.suffix in SUFFIXES:
            out.append(("/".join(rel), path))
    return out


def _names(members: list[str]) -> list[str]:
    """The raw (unsanitised) name of each member path of one folder or archive."""
    tops: dict[str, int] = {}
    for m in members:
        rel = m.split("/")
        if len(rel) > 1:
            tops[rel[0]] = tops.get(rel[0], 0) + 1
    names = []
    for m in members:
        rel = m.split("/")
        if len(rel) == 1:
            names.append(PurePosixPath(rel[0]).stem)
        elif tops[rel[0]] == 1:
            names.append(rel[0])
        else:
            names.append("__".join(rel[:-1] + [PurePosixPath(rel[-1]).stem]))
    return names


def collect(paths: list[str | Path], scratch: Path, skipped: list[Skipped] | None = None) -> list[Submission]:
    """The submissions under `paths` (files, folders, zips), in a stable order with unique names.

    Args:
        paths: what the instructor named on the command line.
        scratch: where zips are extracted.
        skipped: receives a `Skipped` for each file that cannot be a submission.

    Raises:
        GraderError: a path does not exist or is neither a submission, a folder nor a zip,
            or a zip cannot be read at all.
    """
    skipped = skipped if skipped is not None else []
    found: list[tuple[str, Path, str]] = []  # (raw name, file, source)
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise GraderError(f"No such file or folder: {shown(str(path))}")
        if path.is_dir():
            files = _files(path, skipped)
            found += [(n, f, shown(str(f))) for n, (_, f) in zip(_names([m for m, _ in files]), files)]
        elif path.suffix.lower() == ".zip":
            members = extract_zip(path, scratch, skipped)
            label = shown(path.name)
            found += [(n, f, f"{label}:{shown(m)}") for n, (m, f) in zip(_names([m for m, _ in members]), members)]
        elif path.suffix in SUFFIXES:
            found.append((path.stem, path, shown(str(path))))
        else:
            raise GraderError(
                f"Expected .py or .ipynb files, folders of them, or a .zip. Received: {shown(str(path))}"
            )
    digests: list[str | None] = []
    for _, path, source in found:
        try:
            if path.stat().st_size > MAX_MEMBER_BYTES:
                raise ValueError(f"larger than {MAX_MEMBER_BYTES // 2**20} MB")
            digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
        except (OSError, ValueError) as err:
            skipped.append(Skipped(source, f"cannot be read: {err}" if isinstance(err, ValueError)
                                   else f"cannot be read ({type(err).__name__})"))
            digests.append(None)
    names = unique_names([raw for raw, _, _ in found])
    return [Submission(name, path, digest, source)
            for name, (_, path, source), digest in zip(names, found, digests) if digest is not None]


def unique_names(raws: list[str]) -> list[str]:
    """Safe, unique folder names for `raws`, in order: names already safe first, then the others.

    No name equals (ignoring case) another or one of the grader's files (`RESERVED`).
    """
    used = {r.lower() for r in RESERVED}
    out: list[str | None] = [None] * len(raws)
    order = sorted(range(len(raws)), key=lambda i: safe_name(raws[i]) != raws[i])  # stable: safe names first
    for i in order:
        base = safe_name(raws[i])
        name, n = base, 1
        while name.lower() in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name.lower())
        out[i] = name
    return out  # type: ignore[return-value]


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """Whether submission `name` belongs to shard `(index, count)`: a hash of the name, mod count."""
    if shard is None:
        return True
    index, count = shard
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % count == index
