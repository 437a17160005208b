"""Policy checks: what a student's function may call, decided from its source.

The NumPy exercises must be written in NumPy. A function that reaches TensorFlow,
Keras, SciPy, PyTorch, JAX, OpenCV or scikit-image (directly or through a helper
it calls), or that imports dynamically, earns no points for that function. No
function may reach the reference solutions or the grader.

The decision is made on the source (AST), never by running the code, so it
works the same in-process and for a submission graded in an isolated child. It is
a teaching rule, applied on a best-effort basis: it catches every ordinary way of
calling those libraries (imports, aliases, helpers, dynamic imports, the builtins
module, frame and attribute tricks it knows), not a determined obfuscator. Scores of
the NumPy exercises never depend on it alone: every value is still checked.
"""

from __future__ import annotations

import ast
import builtins

from autograder.names import bound_names, local_names

LIBRARIES = ("tensorflow", "keras", "scipy", "torch", "jax", "cv2", "skimage", "sklearn", "numba")
ALWAYS = ("solutions", "autograder")
DYNAMIC = (
    "__import__", "importlib", "eval", "exec", "compile", "sys", "globals", "__builtins__",
    "builtins", "inspect", "runpy", "ctypes", "vars", "locals",
)
# attributes that reach modules or frames from any object
DUNDER_ESCAPES = (
    "__import__", "__builtins__", "__globals__", "__subclasses__", "__loader__", "__spec__",
    "f_globals", "f_back", "tb_frame", "gi_frame", "__code__",
)


def _star_modules(trees) -> list[str]:
    return [
        node.module
        for _, tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and any(a.name == "*" for a in node.names)
    ]


def _module_names(trees) -> set[str]:
    """Every name the files bind at module level (plus the builtins)."""
    names = set(dir(builtins))
    for _, tree in trees:
        for node in tree.body:
            names |= bound_names(node)
    return names


def _aliases(trees) -> tuple[dict[str, str], dict[str, ast.AST]]:
    """Names bound by imports (name -> dotted module path), and module-level functions, classes
    and assigned values (name -> its node)."""
    aliases: dict[str, str] = {}
    functions: dict[str, ast.AST] = {}
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                functions[node.name] = node
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                for name in bound_names(node):  # `TABLE = {"f": helper}`: a function reading TABLE reaches helper
                    functions.setdefault(name, node)
    return aliases, functions


def _forbidden(module: str, roots: tuple[str, ...]) -> bool:
    return module.split(".")[0] in roots


def _load_time(trees) -> tuple[list[ast.AST], list[ast.AST]]:
    """The code that runs when the file is loaded, outside any function body.

    Class bodies (but not their methods' bodies), class bases and keywords, decorators and
    default argument values (module-level assignments are reached by the functions that
    read them). What runs there can change any module before a contract function is
    called, so every function answers for it.
    Returns `(code, bases)`: class bases and keywords apart, since naming a library's
    class to inherit from (`class Block(keras.layers.Layer)`) reaches nothing by itself.
    """
    out: list[ast.AST] = []
    bases: list[ast.AST] = []

    def visit(node: ast.AST, top: bool = False) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                out.extend(node.decorator_list)
            out.extend(d for d in node.args.defaults + node.args.kw_defaults if d is not None)
            return
        if isinstance(node, ast.ClassDef):
            out.extend(node.decorator_list)
            bases.extend(node.bases + [k.value for k in node.keywords])
            for stmt in node.body:
                visit(stmt)
            return
        if isinstance(node, ast.stmt):
            if not top:
                out.append(node)
            for child in ast.walk(node):
                if child is not node and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    visit(child)

    for _, tree in trees:
        for node in tree.body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                visit(node, top=True)
    return out, bases


def _walk_load_time(nodes: list[ast.AST]):
    """Every node of load-time code, without descending into function bodies."""
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # visited by `_load_time` for what runs at load
        todo.extend(ast.iter_child_nodes(node))


def _stores_into_objects(node: ast.AST) -> bool:
    """`np.x = ...`, `del np.x`, `setattr(...)`: load-time code that changes another object."""
    if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr")


def violations(trees, function: str, numpy_only: bool) -> list[str]:
    """What `function` reaches that it may not, e.g. ["tensorflow (as `tf`)"].

    Code that runs when the file is loaded (class bodies, decorators, default values)
    counts for every function: it may not change other objects, and for a NumPy-only
    function it may not reach the forbidden libraries either.
    """
    roots = ALWAYS + (LIBRARIES if numpy_only else ())
    aliases, functions = _aliases(trees)
    stars = [m for m in _star_modules(trees) if _forbidden(m, roots)]
    known = _module_names(trees) if stars else set()
    found: list[str] = []
    seen: set[str] = set()
    todo = [function]

    def scan(nodes, local: set[str], name: str) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend(a.name for a in node.names if _forbidden(a.name, roots))
            elif isinstance(node, ast.ImportFrom) and node.module and _forbidden(node.module, roots):
                found.append(node.module)
            elif isinstance(node, ast.Attribute) and node.attr in DUNDER_ESCAPES:
                found.append(f"`.{node.attr}` (reaching modules through objects)")
            elif isinstance(node, ast.Name) and node.id not in local:
                if node.id in aliases and _forbidden(aliases[node.id], roots):
                    found.append(f"{aliases[node.id]} (as `{node.id}`)")
                elif node.id in DYNAMIC or aliases.get(node.id, "").split(".")[0] in DYNAMIC:
                    found.append(f"`{node.id}` (dynamic imports and eval)")
                elif node.id in functions and node.id != name:
                    todo.append(node.id)
                elif stars and node.id not in known:  # can only come from a star import
                    found.append(f"`{node.id}` from `from {stars[0]} import *`")

    code, bases = _load_time(trees)
    load_time = list(_walk_load_time(code))
    assigned = [n for _, tree in trees for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))]
    if any(_stores_into_objects(node) for node in load_time + list(_walk_load_time(bases + assigned))):
        found.append("code that changes other objects when the file is loaded (in a class body, "
                     "a decorator or a default value)")
    scan(load_time, set(), "")
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        scan(ast.walk(functions[name]), local_names(functions[name]), name)
    return sorted(set(found))


def policy_failures(trees, functions, numpy_only) -> dict[str, str]:
    """Function name -> the message its checks report, for each function that broke the policy."""
    out = {}
    for function in functions:
        bad = violations(trees, function, function in numpy_only)
        if bad:
            rule = (
                "must be written with NumPy only"
                if function in numpy_only
                else "may not use the grader or the reference solutions"
            )
            out[function] = (
                f"`{function}` uses {', '.join(bad)}: not allowed here. This function {rule}, "
                "so it earns no points.\n  Hint: the point of the exercise is to write the "
                "computation yourself with NumPy arrays, loops and slicing."
            )
    return out
