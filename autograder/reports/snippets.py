"""Anonymised excerpts of a submission's functions, for the class report.

A student's function is kept as `ast.unparse` writes it: comments and the docstring
(where names, e-mail addresses and notes to the instructor live) are gone and the layout
is normalised, so that two submissions with the same mistake read alike. The excerpt
shown for a mistake is the lines that differ from the reference function, unparsed the
same way; when most lines differ, it is the whole function.
"""

from __future__ import annotations

import ast
import copy
import difflib
import re

MAX_NODES = 5_000  # a function larger than this is not shown (unparsing is linear, but pages are read)
MAX_CHARS = 4_000
MAX_LINES = 40
SIMILAR = 0.5  # a function at least this similar to the reference (difflib's ratio of lines) is shown as a diff


def anonymised(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The function without comments or docstring, as `ast.unparse` writes it; None when too large."""
    try:
        if sum(1 for _ in ast.walk(node)) > MAX_NODES:
            return None
        bare = copy.copy(node)  # shallow: the parsed tree stays as the policy saw it
        body = list(node.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:] or [ast.Pass()]
        bare.body = body
        text = ast.unparse(bare)
    except (RecursionError, ValueError, TypeError, AttributeError):
        return None
    return text[:MAX_CHARS]


def function_sources(trees: list[tuple[str, ast.Module]], names: list[str]) -> dict[str, str]:
    """The anonymised source of each function in `names` that the parsed file defines (the last one wins)."""
    wanted = set(names)
    found: dict[str, str] = {}
    for _, tree in trees:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in wanted:
                text = anonymised(node)
                if text is not None:
                    found[node.name] = text
    return found


def reference_sources(source: str, names: list[str]) -> dict[str, str]:
    """The reference functions `names` of a solution file, anonymised like a student's."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    return function_sources([("reference", tree)], names)


def excerpt(student: str, reference: str | None, context: int = 1) -> tuple[str, bool]:
    """What to show of a wrong function: `(text, is_diff)`.

    Args:
        student: the anonymised student function.
        reference: the anonymised reference function, or None.
        context: unchanged lines shown around each change.

    Returns:
        A unified diff without headers (`-` reference, `+` submission, `…` for lines left
        out) when the function is mostly the reference's (`SIMILAR`); otherwise the function
        itself.
        Both are cut to `MAX_LINES` lines.
    """
    mine = student.splitlines()
    if reference is not None:
        theirs = reference.splitlines()
        diff = list(difflib.unified_diff(theirs, mine, lineterm="", n=context))[2:]
        if diff and difflib.SequenceMatcher(None, theirs, mine, autojunk=False).ratio() >= SIMILAR:
            lines = [_gap(line) if line.startswith("@@") else line for line in diff]
            lines = [line for line in lines if line is not None]
            return _cut(lines), True
    return _cut(mine), False


def _gap(hunk: str) -> str | None:
    """`…` for a hunk header (`@@ -3,4 +3,5 @@`), None for the first hunk of a function (nothing above it)."""
    match = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)", hunk)
    return None if match and int(match.group(1)) <= 1 else "…"


def _cut(lines: list[str]) -> str:
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"… ({len(lines) - MAX_LINES} more lines)"]
    return "\n".join(lines)
