"""Loading: every kind of bad file gets the right status; the cells keep their source as written, in linear time."""

from __future__ import annotations

import json
import time

import nbformat
import pytest
from conftest import EXAMPLE_NOTEBOOKS, LAYOUT, check_cells

from autograder.grading.load import NotebookLoadError, load_notebook
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


def test_magics_are_kept_as_written_and_a_large_cell_loads_in_linear_time():
    """IPython's translation re-reads a cell once per magic: it belongs to the cell's own time in the sandbox
    (autograder.sandbox.execute), never to loading, which the grader does outside every limit."""
    small = "%matplotlib inline\n!ls\nx = 1\n"
    assert [c.source for c in load_notebook(_notebook(small, "%%time\ny = 2\n")).cells] == [small, "%%time\ny = 2\n"]
    big = "".join(f"%time f({i})\nx{i} = {i}\n" for i in range(100_000))  # 2.1 MB, 100 000 magics
    started = time.process_time()
    loaded = load_notebook(_notebook(big))
    assert time.process_time() - started < 2
    assert loaded.cells[0].source == big


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


def test_the_grading_path_does_not_import_nbformat_or_ipython():
    """nbformat's schema validator is slow to import (docs/performance.md): a grading run must not pay it
    for v4. IPython translates magics in the sandboxed cell runner only: the grader loads a notebook with
    magics without it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from autograder.cli import main\n"
        "import autograder.grading.grade, autograder.reports.pages, autograder.reports.gradebook\n"
        "from autograder.grading.load import load_notebook\n"
        f"assert load_notebook(Path({str(LAYOUT.solution_notebook)!r}).read_bytes()).cells\n"
        f"cells = load_notebook(Path({str(EXAMPLE_NOTEBOOKS['bruno_dupont'])!r}).read_bytes()).cells\n"
        "assert any(c.source.startswith('%%time') for c in cells)\n"
        "heavy = ('nbformat', 'jsonschema', 'rfc3987_syntax', 'IPython')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("keep", [0.5, 0.9, -3], ids=["half", "most", "all-but-3-bytes"])
def test_a_truncated_notebook_is_named_so_and_its_message_says_at_once(keep):
    data = LAYOUT.solution_notebook.read_bytes()
    cut = data[: int(len(data) * keep)] if keep > 0 else data[:keep]
    with pytest.raises(NotebookLoadError) as caught:
        load_notebook(cut)
    assert caught.value.status is Status.UNREADABLE
    assert str(caught.value).startswith("truncated: not valid JSON, it ends too early (")
    assert " at at " not in str(caught.value)


def test_json_errors_name_their_place_with_one_at():
    with pytest.raises(NotebookLoadError) as caught:
        load_notebook(b'{"nbformat": 4, "cells": "unterminated')
    assert "(Unterminated string starting at line 1, column 26)" in str(caught.value)
    with pytest.raises(NotebookLoadError) as caught:
        load_notebook(b'{"nbformat": 4, "cells": "a\nb", "metadata": {}}')  # damaged in the middle: not truncated
    assert str(caught.value) == "not valid JSON (Invalid control character at line 1, column 28)"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3", "a PDF document"),
        (b"\n<!DOCTYPE html>\n<html><body>rnn_intro</body></html>", "an HTML page"),
        (b"PK\x03\x04\x14\x00", "a ZIP archive"),
    ],
    ids=["png", "jpeg", "pdf", "html", "zip"],
)
def test_a_file_of_another_kind_is_named_by_its_kind(data, kind):
    with pytest.raises(NotebookLoadError) as caught:
        load_notebook(data)
    assert str(caught.value) == f"{kind}, not a notebook"
    assert caught.value.status is Status.UNREADABLE  # the contract's word for a file that is not JSON
