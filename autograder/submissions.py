"""Finding the submissions to grade: files, folders and `.zip` archives as LMSs export them.

Every `.py` and `.ipynb` file is a submission (hidden folders, `__pycache__`,
`.ipynb_checkpoints` and `__MACOSX` are skipped). Each gets a name that is safe as a
folder name and unique in the batch:

- a file given directly, or at the top of a folder: its stem (`alice.ipynb` -> `alice`);
- the only submission in a student's sub-folder (Moodle: `Alice Smith_123_assignsubmission_file_/ex01.ipynb`):
  that sub-folder's name;
- otherwise its path inside the folder, with `__` for `/`.

A `.zip` is extracted into a scratch folder first, safely: no absolute paths, no `..`,
no links, only `.py`/`.ipynb` members, and limits on their number and size (counted
while reading, not trusted from the archive's directory).
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
SKIPPED_FOLDERS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX"}
MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 50 * 2**20
MAX_TOTAL_BYTES = 2 * 2**30


@dataclasses.dataclass(frozen=True)
class Submission:
    """One file to grade.

    Attributes:
        name: unique, safe as a folder name (`OUT/<name>/results.json`).
        path: the file.
        sha256: of its bytes (with the exercise and grader version, the key for resuming).
    """

    name: str
    path: Path
    sha256: str


def safe_name(text: str) -> str:
    """`text` with anything but letters, digits, `.`, `_`, `-` replaced by `_` (at most 100 characters)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "submission"
    return name[:100]


def extract_zip(archive: Path, dest: Path) -> Path:
    """Extract the `.py`/`.ipynb` members of `archive` under `dest/<archive stem>`, safely.

    Raises:
        GraderError: not a zip file, or over the limits (a zip bomb).
    """
    root = dest / safe_name(archive.stem)
    root.mkdir(parents=True, exist_ok=True)
    total = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise GraderError(f"{archive.name} has {len(members)} entries (limit {MAX_MEMBERS})")
            for info in members:
                target = _member_path(root, info)
                if target is None:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "xb") as out:
                    size = 0
                    while chunk := src.read(1 << 16):
                        size += len(chunk)
                        total += len(chunk)
                        if size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                            raise GraderError(
                                f"{archive.name}: {info.filename} expands beyond the size limit "
                                f"({MAX_MEMBER_BYTES // 2**20} MB per file, {MAX_TOTAL_BYTES // 2**30} GB in all)"
                            )
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as err:
        raise GraderError(f"{archive} is not a zip file that can be read ({err})") from None
    except FileExistsError as err:
        raise GraderError(f"{archive.name} holds the same file twice: {err.filename}") from None
    return root


def _member_path(root: Path, info: zipfile.ZipInfo) -> Path | None:
    """Where a member goes, or None to skip it (folders, links, other files, unsafe paths)."""
    if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
        return None
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts or ":" in parts[0]:
        return None
    if any(p.startswith(".") or p in SKIPPED_FOLDERS for p in parts):
        return None
    if not parts[-1].endswith(SUFFIXES):
        return None
    target = root.joinpath(*parts).resolve()
    return target if target.is_relative_to(root.resolve()) else None


def _files(folder: Path) -> list[Path]:
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).parts
        if any(p.startswith(".") or p in SKIPPED_FOLDERS for p in rel):
            continue
        if path.is_file() and not path.is_symlink() and path.suffix in SUFFIXES:
            out.append(path)
    return out


def _names(folder: Path, files: list[Path]) -> list[str]:
    tops: dict[str, int] = {}
    for f in files:
        rel = f.relative_to(folder).parts
        if len(rel) > 1:
            tops[rel[0]] = tops.get(rel[0], 0) + 1
    names = []
    for f in files:
        rel = f.relative_to(folder).parts
        if len(rel) == 1:
            names.append(Path(rel[0]).stem)
        elif tops[rel[0]] == 1:
            names.append(rel[0])
        else:
            names.append("__".join(rel[:-1] + (Path(rel[-1]).stem,)))
    return names


def collect(paths: list[str | Path], scratch: Path) -> list[Submission]:
    """The submissions under `paths` (files, folders, zips), in a stable order with unique names.

    Args:
        paths: what the instructor named on the command line.
        scratch: where zips are extracted.

    Raises:
        GraderError: a path does not exist or is neither a submission, a folder nor a zip.
    """
    found: list[tuple[str, Path]] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise GraderError(f"No such file or folder: {path}")
        if path.is_dir():
            files = _files(path)
            found += zip(_names(path, files), files)
        elif path.suffix == ".zip":
            root = extract_zip(path, scratch)
            files = _files(root)
            found += zip(_names(root, files), files)
        elif path.suffix in SUFFIXES:
            found.append((path.stem, path))
        else:
            raise GraderError(
                f"Expected .py or .ipynb files, folders of them, or a .zip. Received: {path}"
            )
    used: set[str] = set()
    out = []
    for raw, path in found:
        base = safe_name(raw)
        name, n = base, 1
        while name.lower() in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name.lower())
        out.append(Submission(name, path, hashlib.sha256(path.read_bytes()).hexdigest()))
    return out


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """Whether submission `name` belongs to shard `(index, count)`: a hash of the name, mod count."""
    if shard is None:
        return True
    index, count = shard
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % count == index
