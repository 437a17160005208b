"""The README's code blocks work as written: its Python runs, its `cnnex` commands exist."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)
CONSOLE_BLOCKS = re.findall(r"^```console\n(.*?)^```", README, flags=re.S | re.M)


def cnnex_commands() -> list[list[str]]:
    """Every `$ cnnex ...` line of the README's console blocks, as argv (comments dropped)."""
    commands = []
    for block in CONSOLE_BLOCKS:
        for line in block.splitlines():
            for part in line.removeprefix("$ ").split("&&") if line.startswith("$ ") else []:
                argv = shlex.split(part.split("#")[0])
                if argv and argv[0] == "cnnex":
                    commands.append(argv[1:])
    return commands


def test_readme_has_python_and_cnnex_examples():
    assert PYTHON_BLOCKS and len(cnnex_commands()) >= 5


@pytest.mark.parametrize("argv", cnnex_commands(), ids=" ".join)
def test_every_cnnex_command_in_the_readme_parses(argv):
    build_parser().parse_args(argv)  # exits (SystemExit) on an unknown command or option


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_readme_python_block_runs_offline(index, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["KERAS_HOME"] = str(tmp_path / "keras-home")  # nothing cached: offline from scratch
    run = subprocess.run([sys.executable, "-c", PYTHON_BLOCKS[index]], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "I0000" not in run.stderr and "E0000" not in run.stderr and "InitializeLog" not in run.stderr
