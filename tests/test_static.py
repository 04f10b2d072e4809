"""ruff, mypy (strict) and the import-linter contracts in pyproject.toml, in the test run."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*cmd: str) -> None:
    """Run a checker from the project root; fail with its output."""
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]


def test_ruff() -> None:
    """Lint rules from pyproject.toml."""
    run(sys.executable, "-m", "ruff", "check", ".")


def test_mypy() -> None:
    """Strict typing of every package."""
    run(sys.executable, "-m", "mypy")


def test_import_contracts() -> None:
    """Module boundaries: firmware stands alone, gateway and cloud_ingest share only protocol."""
    lint = shutil.which("lint-imports")
    if lint is None:
        pytest.fail("lint-imports (import-linter) is not installed")
    run(lint)
