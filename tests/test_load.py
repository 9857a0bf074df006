"""Loading: every kind of bad file gets the right status; magics and shell escapes become inert calls."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import LAYOUT, check_cells

from autograder.load import NotebookLoadError, inert_magics, load_notebook
from autograder.results import Status


def _notebook(*sources: str) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    return nbformat.writes(nb).encode()


def test_solution_notebook_loads_without_its_visible_checks(solution_nb):
    loaded = load_notebook(LAYOUT.solution_notebook.read_bytes())
    checks = [i for i, c in enumerate(solution_nb.cells, start=1) if c in check_cells(solution_nb)]
    assert loaded.skipped == tuple(checks)
    assert len(checks) == 11
    code = [i for i, c in enumerate(solution_nb.cells, start=1) if c.cell_type == "code" and i not in checks]
    assert [c.cell for c in loaded.cells] == code


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", Status.EMPTY),
        (b" \n\t\n", Status.EMPTY),
        (b'{"cells": [', Status.UNREADABLE),
        (b"\xff\xfe\x00garbage", Status.UNREADABLE),
        (b"[1, 2, 3]", Status.NOT_A_NOTEBOOK),
        (b'{"name": "package.json"}', Status.NOT_A_NOTEBOOK),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "oops"}', Status.NOT_A_NOTEBOOK),
        (b'{"nbformat": 2, "nbformat_minor": 0, "worksheets": []}', Status.UNREADABLE),
        (b'{"nbformat": 9, "nbformat_minor": 0, "cells": []}', Status.UNREADABLE),
    ],
    ids=["empty", "blank", "truncated", "binary", "json-list", "other-json", "cells-not-a-list", "v2", "v9"],
)
def test_bad_files_get_the_status_that_says_why(data, status):
    with pytest.raises(NotebookLoadError) as caught:
        load_notebook(data)
    assert caught.value.status is status
    assert "\n" not in str(caught.value)


def test_files_beyond_the_size_limit_are_too_large():
    with pytest.raises(NotebookLoadError) as caught:
        load_notebook(_notebook("x = 1"), max_bytes=100)
    assert caught.value.status is Status.TOO_LARGE


def test_nbformat_v3_is_upgraded_and_keeps_its_code():
    v4 = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = x + 1")])
    v3 = nbformat.convert(v4, 3)
    data = json.dumps(v3).encode()
    assert json.loads(data)["nbformat"] == 3
    loaded = load_notebook(data)
    assert [c.source for c in loaded.cells] == ["x = 1", "y = x + 1"]
    assert loaded.nbformat == 3


def test_byte_order_mark_and_cell_lists_are_accepted():
    nb = json.loads(_notebook("a = 1"))
    nb["cells"][0]["source"] = ["a = 1\n", "b = 2"]
    loaded = load_notebook(b"\xef\xbb\xbf" + json.dumps(nb).encode())
    assert loaded.cells[0].source == "a = 1\nb = 2"


def test_magics_and_shell_escapes_become_calls_on_get_ipython():
    assert inert_magics("!rm -rf /\nx = 1\n") == "get_ipython().system('rm -rf /')\nx = 1\n"
    assert inert_magics("%matplotlib inline\n").startswith("get_ipython().run_line_magic('matplotlib'")
    assert "run_cell_magic('time'" in inert_magics("%%time\nx = 1\n")
    assert inert_magics("y = 10 % 3\n") == "y = 10 % 3\n"
    assert inert_magics("def f(:\n") == "def f(:\n"
    assert inert_magics("%time f(x)\nif a != b:\n    pass\n").startswith("get_ipython().run_line_magic('time'")


def test_python_with_percent_bang_or_question_marks_is_left_as_written_without_importing_ipython():
    """`!=`, `%` and "?" in strings are in almost every notebook: parsed as Python first, IPython's tokenizer
    (and its import, 100 ms of CPU per lane) is only for cells that are not Python."""
    import subprocess
    import sys

    cells = [
        "if a != b:\n    print(f'{x:.1%} ?')\n",
        "y = (10\n% 3)\n",
        "  # an indented comment (100 %)\nif x:\n  y = 1\n",
        "s = '\\d ?'\n",
    ]
    code = (
        "import sys\n"
        "from autograder.load import inert_magics\n"
        f"cells = {cells!r}\n"
        "assert [inert_magics(c) for c in cells] == cells, [inert_magics(c) for c in cells]\n"
        "print('IPython' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def _mutations(tree, rng, count):
    """Seeded random damage to a notebook's JSON: values replaced by values of other types."""
    junk = [None, 0, -1, 3.5, "", "x", [], {}, [None], {"a": 1}, True]
    for _ in range(count):
        damaged = json.loads(json.dumps(tree))
        node = damaged
        for _depth in range(rng.randint(1, 5)):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = rng.choice(keys)
            if rng.random() < 0.4 or not isinstance(node[key], (dict, list)):
                node[key] = rng.choice(junk)
                break
            node = node[key]
        yield damaged


def test_damaged_notebooks_are_loaded_or_refused_with_a_status_never_a_crash():
    import random

    tree = json.loads(LAYOUT.solution_notebook.read_text())
    outcomes = set()
    for damaged in _mutations(tree, random.Random(7), 400):
        try:
            load_notebook(json.dumps(damaged).encode())
            outcomes.add("loaded")
        except NotebookLoadError as error:
            outcomes.add(error.status.value)
    assert "loaded" in outcomes
    assert outcomes <= {"loaded", "not_a_notebook", "unreadable"}


def test_the_grading_path_does_not_import_nbformat():
    """nbformat's schema validator costs 1.7 s to import here: a grading run must not pay it for v4."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from autograder.cli import main\n"
        "import autograder.grade, autograder.pages, autograder.reports\n"
        "from autograder.load import load_notebook\n"
        f"assert load_notebook(open({str(LAYOUT.solution_notebook)!r}, 'rb').read()).cells\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('nbformat', 'jsonschema', 'rfc3987_syntax')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
