"""The package's import rules (pyproject.toml, [tool.importlinter]) hold, and they catch an import that breaks them.

The rules keep the trust boundary in the layout: the sandbox (untrusted processes) never imports the trusted
side, the protocol imports neither side, reports never import the sandbox, grading starts student code only by
name, and the layers run from the command line down to the shared records.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the package found under ``root``, with ``root``'s pyproject.toml."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "HOME": str(root), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_its_import_rules():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert result.stdout.count("KEPT") >= 6, result.stdout


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory) -> Path:
    """The package's code and import rules, copied where a test may break them."""
    root = tmp_path_factory.mktemp("layout")
    shutil.copytree(
        REPO / "autograder", root / "autograder", ignore=shutil.ignore_patterns("__pycache__", "assignments")
    )
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("sandbox/runtime.py", "import autograder.grading.scoring", "The sandbox (untrusted processes) never imports"),
        ("protocol/codec.py", "from autograder.sandbox import walls", "The protocol imports neither side"),
        ("reports/pages.py", "import autograder.sandbox.worker", "Reports, the LMS files and copy detection"),
        ("lms/archive.py", "import autograder.sandbox.walls", "Reports, the LMS files and copy detection"),
        ("lms/export.py", "import autograder.grading.discover", "Layers"),
        ("similarity/compare.py", "import autograder.sandbox.execute", "Reports, the LMS files and copy detection"),
        ("grading/scoring.py", "import autograder.similarity.compare", "Layers"),
        ("grading/scoring.py", "import autograder.sandbox.execute", "Grading starts student code by name only"),
        ("results.py", "import autograder.reports.gradebook", "Layers"),
        ("testing.py", "import autograder.sandbox.runtime", "The suite author's API"),
    ],
)
def test_a_forbidden_import_fails_the_rules(package_copy, module, line, contract):
    path = package_copy / "autograder" / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # added by the test\n")
    try:
        result = lint_imports(package_copy)
    finally:
        path.write_text(original)
    assert result.returncode != 0, result.stdout
    broken = [row for row in result.stdout.splitlines() if row.rstrip().endswith("BROKEN")]
    assert any(row.startswith(contract) for row in broken), result.stdout
