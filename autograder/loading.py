"""Turn a student file (.ipynb or .py) into a namespace of functions.

Only what defines the student's functions runs: imports, `def`, `class`, and
assignments of plain values (`SIZE = 28`). Exploratory cells (training runs,
plots, prints, check calls) are dropped, so they can neither slow checking nor
break it. Each statement runs on its own: an import that fails or a syntax
error in one cell costs only what that cell defines, and is reported with its
cell and line.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import types
from pathlib import Path

from autograder.errors import LoadError
from autograder.names import bound_names, free_names

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclasses.dataclass
class Unit:
    """A piece of source as the student sees it: a notebook cell or a whole file."""

    label: str  # "cell 3" or "ex01_convolution.py"
    source: str


@dataclasses.dataclass
class StudentFile:
    """A loaded submission.

    Attributes:
        path: where it came from.
        namespace: the module holding the student's definitions.
        problems: human-readable problems found while loading ("cell 4, line 2: SyntaxError ...").
        trees: the parsed definitions of each unit, for policy checks.
    """

    path: Path
    namespace: types.ModuleType
    problems: list[str]
    trees: list[tuple[str, ast.Module]]

    def __getattr__(self, name):
        # Attribute access reads the student's namespace: `student.conv2d(...)`.
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return getattr(self.namespace, name)
        except AttributeError:
            raise AttributeError(name) from None


def read_units(path: str | Path) -> list[Unit]:
    """The code of a `.py` file (one unit) or of a notebook's code cells (one unit each)."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"No such file: {path}")
    if path.is_dir():
        raise LoadError(f"Expected a .py or .ipynb file, got a folder: {path}")
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise LoadError(f"{path.name} is a binary file, not Python source or a notebook")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LoadError(f"{path.name} is not UTF-8 text ({err.reason} at byte {err.start})") from None
    if not text.strip():
        raise LoadError(f"{path.name} is empty")
    if path.suffix == ".ipynb":
        return _notebook_units(path.name, text)
    if path.suffix == ".py":
        return [Unit(path.name, text)]
    raise LoadError(f"Expected a .py or .ipynb file. Received: {path.name}")


def _notebook_units(name: str, text: str) -> list[Unit]:
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as err:
        raise LoadError(
            f"{name} is not a valid notebook (JSON error at line {err.lineno}, column {err.colno}: "
            f"{err.msg}). Open it in Jupyter and save it again, or submit a .py file."
        ) from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise LoadError(f"{name} is not a notebook: it has no list of cells")
    units = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        # as JupyterLab shows it: "Cell 7/22" in its status bar, and the prompt [5] if it ran
        count = cell.get("execution_count")
        prompt = f" [{count}]" if type(count) is int and 0 < count < 10**6 else ""
        units.append(Unit(f"cell {number}{prompt}", _strip_magics(str(source))))
    return units


def _strip_magics(source: str) -> str:
    """Blank out IPython-only lines (`%matplotlib inline`, `!pip install ...`) keeping line numbers."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("%", "!", "?")):
            lines[i] = ""
    return "\n".join(lines)


def _is_definition(node: ast.stmt) -> bool:
    if isinstance(node, _DEFINITIONS):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if not all(isinstance(t, ast.Name) for t in targets):
            return False  # `x[0] = 1`, `obj.attr = 2`: statements about objects, not definitions
        value = node.value
        if value is None:
            return True
        try:
            ast.literal_eval(value)
            return True
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
    if isinstance(node, ast.Try):
        # `try: import x / except ImportError: ...` guards around imports.
        return all(_is_definition(n) for n in node.body)
    return False


def _plain_assignment(node: ast.stmt) -> bool:
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return all(isinstance(t, ast.Name) for t in targets)


def _star_import(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)


def definitions(trees: list[ast.Module]) -> list[ast.Module]:
    """Each module with only what defines the student's functions kept.

    Kept: `def`, `class`, assignments of literals, and then, as often as needed, what the
    kept code reads from the module: an assignment such as `MEAN = np.array([...])` when a
    kept function uses `MEAN`, and the imports that bind a name kept code uses (so an
    exploratory `import matplotlib.pyplot as plt` costs nothing and cannot fail). Star
    imports are kept (what they bind is unknown). `from __future__` imports are dropped:
    they only affect the statement compiled with them.
    """
    statements = [(i, node) for i, tree in enumerate(trees) for node in tree.body]
    kept = {id(node) for _, node in statements if _is_definition(node) and not isinstance(node, (ast.Import, ast.ImportFrom))}
    used = set().union(*(free_names(node) for _, node in statements if id(node) in kept))
    binders: dict[str, list[ast.stmt]] = {}  # name -> the plain assignments that bind it
    for _, node in statements:
        if id(node) not in kept and _plain_assignment(node):
            for name in bound_names(node):
                binders.setdefault(name, []).append(node)
    todo = list(used)
    while todo:  # assignments that kept code reads, then what they read, and so on (linear time)
        for node in binders.pop(todo.pop(), []):
            if id(node) not in kept:
                kept.add(id(node))
                fresh = free_names(node) - used
                used |= fresh
                todo.extend(fresh)
    for _, node in statements:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
            if not future and (bound_names(node) & used or _star_import(node)):
                kept.add(id(node))
    return [ast.Module(body=[n for n in tree.body if id(n) in kept], type_ignores=[]) for tree in trees]


def load(path: str | Path, module_name: str = "student") -> StudentFile:
    """Load a student's `.py` or `.ipynb` file.

    Args:
        path: the file.
        module_name: name given to the namespace (appears in tracebacks).

    Returns:
        A `StudentFile`; problems are collected, not raised.

    Raises:
        LoadError: the file is missing, empty, binary or not a notebook.
    """
    path = Path(path)
    units = read_units(path)
    namespace = types.ModuleType(module_name)
    namespace.__file__ = str(path)
    problems: list[str] = []
    parsed: list[tuple[str, ast.Module]] = []
    for unit in units:
        try:
            parsed.append((unit.label, ast.parse(unit.source, filename=f"<student {unit.label}>")))
        except SyntaxError as err:
            line = (err.text or "").strip()
            problems.append(
                f"{unit.label}, line {err.lineno}: SyntaxError: {err.msg}"
                + (f"\n    {line}" if line else "")
            )
    kept_trees = definitions([tree for _, tree in parsed])
    trees = [(label, kept) for (label, _), kept in zip(parsed, kept_trees)]
    for label, kept in trees:
        filename = f"<student {label}>"
        for node in kept.body:
            code = compile(ast.Module(body=[node], type_ignores=[]), filename, "exec")
            try:
                exec(code, namespace.__dict__)  # noqa: S102 - running student code is the point
            except BaseException as err:  # SystemExit and KeyboardInterrupt included
                if isinstance(err, KeyboardInterrupt):
                    raise
                problems.append(f"{label}, line {node.lineno}: {type(err).__name__}: {err}".rstrip(": "))
    return StudentFile(path, namespace, problems, trees)
