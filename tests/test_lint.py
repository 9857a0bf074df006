"""The project's own code passes ruff with the rules pyproject.toml sets (each ignore says why there),
and mypy with the settings of its [tool.mypy]."""

from __future__ import annotations

from conftest import run_tool


def test_ruff_finds_nothing():
    result = run_tool("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_changes_nothing():
    result = run_tool("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    # No cache: tests write nothing in the work tree, and one in a temporary folder would be cold at
    # every run, costing its writing for nothing.
    result = run_tool("python", "-m", "mypy", "--no-incremental", "--cache-dir", "/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr
