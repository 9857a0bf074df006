"""Shared fixtures: the repository's notebooks, executed once per session in a real Jupyter kernel."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.nbgrader.layout import CourseLayout

REPO = Path(__file__).resolve().parent.parent
LAYOUT = CourseLayout(REPO)
EXAMPLES = REPO / "examples" / "submissions"
EXAMPLE_NOTEBOOKS = {  # the graded examples, each in its own layout
    "alice_martin": EXAMPLES / "alice_martin.ipynb",
    "bruno_dupont": EXAMPLES / "bruno_dupont" / "rnn_intro.ipynb",
    "chloe_bernard": EXAMPLES / "chloe_bernard" / "rnn_intro" / "rnn_intro.ipynb",
    "david_petit": EXAMPLES / "david_petit.ipynb",
}


def own_cgroups() -> dict[str, str]:
    """This process's cgroup v1 folder per controller (memory, pids), relative to the hierarchy's root."""
    return {
        c: line.split(":", 2)[2].lstrip("/")
        for line in Path("/proc/self/cgroup").read_text().splitlines()
        for c in ("memory", "pids")
        if c in line.split(":", 2)[1].split(",")
    }


# The contract, copied from docs/contract.md: question id -> (signature, points). The tests hold the
# notebook to it; changing a line here means the contract changed through an issue.
CONTRACT = {
    "rnn_cell_forward": ("rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h)", 2),
    "rnn_cell_loop": ("rnn_cell_loop(rnn_cell, x_in, hidden=None)", 2),
    "gather_last_relevant_hidden": ("gather_last_relevant_hidden(hiddens, x_lengths)", 3),
    "classify_hidden": ("classify_hidden(z, fc)", 2),
    "many_to_one_logits": ("many_to_one_logits(rnn, fc, x_in, x_lengths)", 3),
    "packed_last_hidden": ("packed_last_hidden(rnn, x_in, x_lengths)", 2),
    "gru_output_shapes": (
        "gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False)",
        2,
    ),
    "bigru_final_states": ("bigru_final_states(out, hidden_size)", 3),
    "count_recurrent_parameters": (
        "count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False)",
        2,
    ),
    "hidden_gradient_norms": ("hidden_gradient_norms(rnn_cell, x_in)", 3),
    "TASK_TYPES": ("TASK_TYPES", 2),
}
TOTAL_POINTS = 26

SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION", re.M | re.S)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def check_cells(nb) -> list:
    """The autograded test cells (the visible checks), in notebook order."""
    return [c for c in nb.cells if nbgrader_meta(c).get("grade")]


def solution_cells(nb) -> list:
    return [c for c in nb.cells if nbgrader_meta(c).get("solution")]


def defined_names(source: str) -> set[str]:
    """Top-level functions and assigned names of a cell."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def errors_of(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


VENV_BIN = Path(sys.executable).parent


def run_tool(tool: str, *args: str, cwd: Path = REPO, timeout: float = 300) -> subprocess.CompletedProcess:
    """One of the venv's own commands (autograder, nbgrader, ruff, ...), output captured as text."""
    return subprocess.run([str(VENV_BIN / tool), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """`python -m autograder`, as an instructor runs it."""
    return run_tool("python", "-m", "autograder", *args, cwd=cwd, timeout=120)


@pytest.fixture(scope="session", autouse=True)
def isolated_jupyter(tmp_path_factory):
    """Jupyter, IPython and nbgrader read and write their config and runtime files in a temp folder.

    The venv's bin folder goes first on PATH: nbgrader runs `alembic` by name, and kernels must be
    the venv's Python.
    """
    home = tmp_path_factory.mktemp("jupyter-home")
    saved = dict(os.environ)
    os.environ.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        MPLCONFIGDIR=str(home / "matplotlib"),  # matplotlib's font cache, for notebooks that plot
    )
    yield home
    os.environ.clear()
    os.environ.update(saved)


def execute_notebook(nb, workdir: Path):
    """Run every cell in a fresh python3 kernel, going on after errors; return the executed copy."""
    executed = nbformat.from_dict(nb)
    client = NotebookClient(
        executed,
        kernel_name="python3",
        timeout=300,
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    return executed


@pytest.fixture(scope="session")
def solution_nb():
    return nbformat.read(LAYOUT.solution_notebook, as_version=4)


@pytest.fixture(scope="session")
def exercise_nb():
    return nbformat.read(LAYOUT.exercise_notebook, as_version=4)


@pytest.fixture(scope="session")
def executed_solution(solution_nb, tmp_path_factory, isolated_jupyter):
    return execute_notebook(solution_nb, tmp_path_factory.mktemp("solution-run"))


@pytest.fixture(scope="session")
def executed_exercise(exercise_nb, tmp_path_factory, isolated_jupyter):
    return execute_notebook(exercise_nb, tmp_path_factory.mktemp("exercise-run"))


_instructor: list = []  # (user, its folder, its set-up), started once the session's tests are collected


def pytest_collection_modifyitems(session, config, items):
    """The ordinary user's set-up takes about a minute: when a collected test needs the user, it starts now,
    in the background, and the tests before that one run meanwhile."""
    if not _instructor and any("instructor" in getattr(item, "fixturenames", ()) for item in items):
        from tests.unprivileged import start

        _instructor.append(start())


def pytest_sessionfinish(session, exitstatus):
    from tests.unprivileged import remove

    while _instructor:
        person, base, setup = _instructor.pop()
        setup.stop()
        remove(person, base)


@pytest.fixture(scope="session")
def instructor():
    """An ordinary user with the kit set up in its home folder by the README's set-up (see unprivileged.py)."""
    if not _instructor:
        from tests.unprivileged import start

        _instructor.append(start())
    person, _base, setup = _instructor[0]
    person.setup = setup.wait()
    return person
