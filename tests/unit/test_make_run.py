"""`make run` on another PORT: the links in emails follow it unless SITE_URL is set."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _dry_run(*args: str, site_url: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT"}}
    if site_url is not None:
        env["SITE_URL"] = site_url
    # -n prints the recipe with the make variables expanded and runs nothing.
    result = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def _starting_line(output: str) -> str:
    return next(line for line in output.splitlines() if "cxcrm is starting" in line)


def test_site_url_follows_port_by_default():
    line = _starting_line(_dry_run("PORT=8123"))
    assert "links in emails: http://127.0.0.1:8123)" in line


def test_site_url_default_port_is_8000():
    assert "links in emails: http://127.0.0.1:8000)" in _starting_line(_dry_run())


def test_site_url_from_the_environment_wins_over_port():
    line = _starting_line(_dry_run("PORT=8123", site_url="https://cx.example.com"))
    assert "links in emails: https://cx.example.com)" in line


def test_site_url_is_exported_for_the_whole_recipe():
    # A target-specific export reaches seed_demo, ensure_superuser and every honcho process
    # (each of which gets its own PORT from honcho, so none may derive SITE_URL from it).
    makefile = (ROOT / "Makefile").read_text()
    assert "run: export SITE_URL = $(RUN_SITE_URL)" in makefile
