"""JupyterLab in a real browser: the filled notebooks show their pictures and formatted feedback.

Starts JupyterLab on 127.0.0.1 with a token, drives Debian's Chromium (`/usr/bin/chromium`,
or `$CHROMIUM`) with Playwright, runs every cell of the filled ex01 and ex04 notebooks and
reads the rendered page. Screenshots go to `$CNNEX_SCREENSHOTS` (default: the test's
temporary folder). Skipped with a reason when Playwright or Chromium is missing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.release import split_cells, to_notebook

pytestmark = pytest.mark.requires("playwright")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
# notebook -> (images at least, check cells rendered as HTML at least)
NOTEBOOKS = {"ex01_convolution": (2, 5), "ex04_keras_cnn": (5, 2)}
# a filled ex01 whose conv2d flips the kernel (a true convolution): what a failed check looks like
MISTAKE = ("weights = kernel.reshape(kh * kw * c, f)", "weights = kernel[::-1, ::-1].reshape(kh * kw * c, f)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("lab")
    for name in NOTEBOOKS:
        nb = to_notebook(split_cells((ROOT / "solutions" / f"{name}.py").read_text()), name)
        nbformat.write(nb, folder / f"{name}.ipynb")
    source = (ROOT / "solutions" / "ex01_convolution.py").read_text()
    assert MISTAKE[0] in source
    nb = to_notebook(split_cells(source.replace(*MISTAKE)), "ex01_convolution")
    nbformat.write(nb, folder / "ex01_mistake.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "TF_CPP_MIN_LOG_LEVEL")}
    env["JUPYTER_CONFIG_DIR"] = str(folder / ".jupyter")  # no user settings but these:
    settings = folder / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    for extension, name, value in [
        # every cell in the page (not only the visible ones); start the notebook's kernel without asking
        ("notebook-extension", "tracker", '{"windowingMode": "none", "autoStartDefaultKernel": true}'),
        ("apputils-extension", "notification", '{"fetchNews": "false"}'),  # no network, no news pop-up
    ]:
        (settings / extension).mkdir(parents=True, exist_ok=True)
        (settings / extension / f"{name}.jupyterlab-settings").write_text(value)
    log = open(folder / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail((folder / "jupyterlab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield base, token, folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def run_all(jupyterlab, name: str, screenshots: dict[str, str]) -> dict:
    """Open NAME.ipynb in JupyterLab, run all cells, screenshot, and read the rendered page."""
    from playwright.sync_api import sync_playwright

    base, token, folder = jupyterlab
    shots = Path(os.environ.get("CNNEX_SCREENSHOTS") or folder)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/{name}.ipynb?reset&token={token}")  # reset: no tabs of earlier tests
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        # With several kernels installed JupyterLab may ask which one to start: the notebook's
        # own (python3). Settle that before running, or the queued cells go to a stopped kernel.
        dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        quiet_since, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline:
            if dialog.count():
                dialog.locator("select").select_option(label="Python 3 (ipykernel)")
                dialog.locator("button", has_text="Select").click()
                quiet_since = None
            elif idle.count():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 3:
                    break
            page.wait_for_timeout(500)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()  # the Run menu
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        # every code cell executed: no prompt left empty or busy ("[*]")
        finished = """() => {
            const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim());
            return prompts.length > 0 && prompts.every(t => /^\\[\\d+\\]:$/.test(t));
        }"""
        deadline = time.monotonic() + float(os.environ.get("CNNEX_BROWSER_TIMEOUT", 900))
        while not page.evaluate(finished):
            if time.monotonic() > deadline:
                page.screenshot(path=str(shots / f"{name}_timeout.png"))
                pytest.fail(f"{name}: the cells did not all run in time (see {name}_timeout.png)")
            page.wait_for_timeout(1000)
        page.wait_for_timeout(1000)
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")  # the open tab only
        seen = {
            "images": notebook.locator(".jp-OutputArea-output img").count(),
            "tables": notebook.locator(".jp-OutputArea-output .cnnex-feedback").count(),
            "feedback images": notebook.locator(".cnnex-feedback img").count(),
            "text": notebook.inner_text(),
            "stderr": notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count(),
            "tracebacks": notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count(),
        }
        for shot, selector in screenshots.items():
            notebook.locator(selector).first.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"{name}_{shot}.png"))
        browser.close()
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_filled_notebook_in_jupyterlab_shows_pictures_and_formatted_feedback(jupyterlab, name):
    seen = run_all(jupyterlab, name, {"feedback": ".cnnex-feedback", "figure": ".jp-OutputArea-output img"})
    min_images, min_tables = NOTEBOOKS[name]
    assert seen["images"] >= min_images, f"{seen['images']} images rendered"
    assert seen["tables"] >= min_tables, f"{seen['tables']} feedback tables rendered"
    assert seen["stderr"] == 0 and seen["tracebacks"] == 0
    assert "Result(" not in seen["text"] and "WARNING:tensorflow" not in seen["text"]
    assert f"{name}: " in seen["text"] and "points" in seen["text"]


@pytest.mark.slow
def test_a_failed_check_in_jupyterlab_shows_its_hint_and_a_picture_of_the_difference(jupyterlab):
    seen = run_all(jupyterlab, "ex01_mistake", {"feedback": ".cnnex-feedback img"})
    assert seen["feedback images"] >= 1
    assert "true convolution (kernel flipped 180°)" in seen["text"]
    assert seen["stderr"] == 0 and seen["tracebacks"] == 0
