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
NOTEBOOKS = {"ex01_convolution": (2, 5), "ex04_keras_cnn": (6, 2)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("lab")
    for name in NOTEBOOKS:
        nb = to_notebook(split_cells((ROOT / "solutions" / f"{name}.py").read_text()), name)
        nbformat.write(nb, folder / f"{name}.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "TF_CPP_MIN_LOG_LEVEL")}
    env["JUPYTER_CONFIG_DIR"] = str(folder / ".jupyter")  # no user settings but these:
    settings = folder / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    for extension, name, value in [
        ("notebook-extension", "tracker", '{"windowingMode": "none"}'),  # every cell in the page, not only visible ones
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


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_filled_notebook_in_jupyterlab_shows_pictures_and_formatted_feedback(jupyterlab, name):
    from playwright.sync_api import sync_playwright

    base, token, folder = jupyterlab
    shots = Path(os.environ.get("CNNEX_SCREENSHOTS") or folder)
    shots.mkdir(parents=True, exist_ok=True)
    min_images, min_tables = NOTEBOOKS[name]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/{name}.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()  # the Run menu
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        # every code cell executed: no prompt left empty or busy ("[*]")
        page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim());
                return prompts.length > 0 && prompts.every(t => /^\\[\\d+\\]:$/.test(t));
            }""",
            timeout=900_000,
            polling=1000,
        )
        page.wait_for_timeout(1000)
        images = page.locator(".jp-OutputArea-output img").count()
        tables = page.locator(".jp-OutputArea-output .cnnex-feedback").count()
        text = page.locator(".jp-Notebook").inner_text()
        stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
        tracebacks = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count()
        feedback = page.locator(".cnnex-feedback").first
        feedback.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"{name}_feedback.png"))
        page.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"{name}_figure.png"))
        browser.close()
    assert images >= min_images, f"{images} images rendered"
    assert tables >= min_tables, f"{tables} feedback tables rendered"
    assert stderr == 0 and tracebacks == 0
    assert "Result(" not in text
    assert f"{name}: " in text and "points" in text
