"""A generated class for the class report: 30 ex01 submissions in known proportions.

Each submission is the reference solution with the edits of some known mistakes (the
same edits `test_ex01_convolution.py` uses to show each mistake is named), one with a
wrong answer no mutant reproduces (`bias_doubled`), and one untouched stub.

    names = write_class(tmp_path / "class")       # {"s00": ("flipped_kernel",), ...}
"""

from __future__ import annotations

from pathlib import Path

from helpers_exercises import assignment_path, solution_path
from test_ex01_convolution import CONV2D_MUTANTS, OTHER_MUTANTS

EDITS = {
    **CONV2D_MUTANTS,
    **{name: edits for (_, name), edits in OTHER_MUTANTS.items()},
    "bias_doubled": [("out = out + np.asarray(bias)", "out = out + 2 * np.asarray(bias)")],
}
STUB = "stub"

# (submissions, the mistakes each of them makes)
CLASS = [
    (9, ()),
    (6, ("flipped_kernel",)),
    (4, ("bias_missing",)),
    (3, ("padding_one_side",)),
    (2, ("size_missing_plus_one",)),
    (2, ("pad_one_side", "step_no_bias")),
    (1, ("step_no_bias",)),
    (2, ("bias_doubled",)),
    (1, (STUB,)),
]
SIZE = sum(n for n, _ in CLASS)

# (function, mistake) -> submissions: what the report must count
EXPECTED = {
    ("conv2d", "flipped_kernel"): 6,
    ("conv2d", "bias_missing"): 4,
    ("conv2d", "padding_one_side"): 3,
    ("conv_output_size", "size_missing_plus_one"): 2,
    ("zero_pad", "pad_one_side"): 2,
    ("conv_single_step", "step_no_bias"): 3,
}


def source(mistakes: tuple[str, ...]) -> str:
    """The reference solution with the edits of `mistakes` (the stub for `(STUB,)`)."""
    if mistakes == (STUB,):
        return assignment_path("ex01", ".py").read_text(encoding="utf-8")
    text = solution_path("ex01").read_text(encoding="utf-8")
    for mistake in mistakes:
        for old, new in EDITS[mistake]:
            assert old in text, f"edit target not found for {mistake}: {old!r}"
            text = text.replace(old, new)
    return text


def write_class(folder: Path) -> dict[str, tuple[str, ...]]:
    """Write the class into `folder` as `s00.py` ... `s29.py`; returns name -> mistakes."""
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, tuple[str, ...]] = {}
    for count, mistakes in CLASS:
        text = source(mistakes)
        for _ in range(count):
            name = f"s{len(names):02d}"
            (folder / f"{name}.py").write_text(text, encoding="utf-8")
            names[name] = mistakes
    return names
