"""Running cells: each cell fails on its own, magics that wrap code still run it, the rest is inert; the
translation of IPython syntax is the cell's own time."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch

from autograder.grading.load import CodeCell
from autograder.sandbox.execute import inert_magics, new_namespace, run_cells


def _run(*sources: str, output_cap: int = 64_000):
    namespace = new_namespace()
    cells = [CodeCell(i, s) for i, s in enumerate(sources, start=1)]  # as loaded: magics translated when run
    return namespace, run_cells(cells, namespace, output_cap=output_cap)


def test_a_failing_cell_does_not_stop_the_next_ones():
    namespace, runs = _run("def f():\n    return 1\n", "1 / 0", "def g(:\n", "h = f() + 1")
    assert [r.ok for r in runs] == [True, False, False, True]
    assert namespace["h"] == 2
    assert runs[1].error.type_name == "ZeroDivisionError"
    assert (runs[1].error.frames[0].cell, runs[1].error.frames[0].line) == (2, 1)
    assert runs[2].error.type_name == "SyntaxError"
    assert runs[2].error.frames[-1].cell == 3


def test_sys_exit_in_a_cell_costs_that_cell_only():
    namespace, runs = _run("import sys\nsys.exit(3)", "after = True")
    assert runs[0].error.type_name == "SystemExit"
    assert namespace["after"] is True


def test_cell_magics_that_wrap_code_still_run_it():
    namespace, runs = _run("%%time\ndef f(x):\n    return 2 * x\n", "%time y = f(21)", "%timeit -n 1 -r 1 z = 5")
    assert all(r.ok for r in runs)
    assert namespace["y"] == 42
    assert namespace["z"] == 5


def test_shell_escapes_and_other_magics_do_nothing(tmp_path):
    marker = tmp_path / "marker"
    namespace, runs = _run(
        f"!touch {marker}", f"%%bash\ntouch {marker}\n", f"%%writefile {marker}\nx\n", "out = !ls", "%matplotlib inline"
    )
    assert all(r.ok for r in runs)
    assert not marker.exists()
    assert namespace["out"] == []


def test_a_traceback_points_into_the_cell_that_raised():
    _, runs = _run("def f(x):\n    return x[10]\n", "f([1, 2])")
    frames = runs[1].error.frames
    assert [(f.cell, f.line) for f in frames] == [(2, 1), (1, 2)]
    assert frames[-1].text == "return x[10]"


def test_input_gets_end_of_file_instead_of_waiting():
    _, runs = _run("name = input('Votre nom ? ')")
    assert runs[0].error.type_name == "EOFError"


def test_output_is_kept_up_to_the_cap_and_the_rest_dropped_with_a_note():
    _, runs = _run("print('a' * 100)", "print('b' * 100)", output_cap=150)
    assert runs[0].output == "a" * 100 + "\n"
    assert runs[1].output.startswith("b" * 49)
    assert "non conservés" in runs[1].output


def test_torch_switches_a_cell_flips_are_put_back():
    _, runs = _run(
        "torch.set_grad_enabled(False)\ntorch.set_default_dtype(torch.float64)".replace("torch", "__import__('torch')")
    )
    assert runs[0].ok
    assert torch.is_grad_enabled()
    assert torch.get_default_dtype() is torch.float32


# A loop that would end by itself after 5 s: if the limit failed, the test fails instead of hanging.
RUNAWAY = "import time\nstop = time.monotonic() + 5\nwhile time.monotonic() < stop:\n    pass\n"


def test_a_runaway_cell_is_stopped_and_earlier_functions_stay():
    namespace = new_namespace()
    cells = [
        CodeCell(1, "def f():\n    return 1\n"),
        CodeCell(2, RUNAWAY),
        CodeCell(
            3, "try:\n" + "\n".join("    " + line for line in RUNAWAY.splitlines()) + "\nexcept Exception:\n    pass\n"
        ),
        CodeCell(4, "g = f() + 1"),
    ]
    started = time.monotonic()
    runs = run_cells(cells, namespace, cell_seconds=0.3)
    assert time.monotonic() - started < 3
    assert [r.ok for r in runs] == [True, False, False, True]
    assert runs[1].error.type_name == "TimeLimitExceeded"
    assert runs[2].error.type_name == "TimeLimitExceeded"
    assert namespace["g"] == 2


def test_display_works_as_in_a_kernel():
    namespace, runs = _run("display({'a': 1}, 'texte')\nshown = True")
    assert runs[0].ok
    assert runs[0].output == "{'a': 1}\n'texte'\n"
    assert namespace["shown"] is True


def test_magics_and_shell_escapes_become_calls_on_get_ipython():
    assert inert_magics("!rm -rf /\nx = 1\n") == "get_ipython().system('rm -rf /')\nx = 1\n"
    assert inert_magics("%matplotlib inline\n").startswith("get_ipython().run_line_magic('matplotlib'")
    assert "run_cell_magic('time'" in inert_magics("%%time\nx = 1\n")
    assert inert_magics("y = 10 % 3\n") == "y = 10 % 3\n"
    assert inert_magics("def f(:\n") == "def f(:\n"
    assert inert_magics("%time f(x)\nif a != b:\n    pass\n").startswith("get_ipython().run_line_magic('time'")


def test_python_with_percent_bang_or_question_marks_is_left_as_written_without_importing_ipython():
    """`!=`, `%` and "?" in strings are in almost every notebook: parsed as Python first, IPython's tokenizer
    (and its import, 100 ms of CPU) is only for cells that are not Python."""

    cells = [
        "if a != b:\n    print(f'{x:.1%} ?')\n",
        "y = (10\n% 3)\n",
        "  # an indented comment (100 %)\nif x:\n  y = 1\n",
        "s = '\\d ?'\n",
    ]
    code = (
        "import sys\n"
        "from autograder.sandbox.execute import inert_magics\n"
        f"cells = {cells!r}\n"
        "assert [inert_magics(c) for c in cells] == cells, [inert_magics(c) for c in cells]\n"
        "print('IPython' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


USUAL_MAGIC_CELLS = [
    "%matplotlib inline\nimport torch\n",
    "!pip install torch\nx = 1",
    "%time x = f()",
    "%%time\nx = 1\ny = 2\n",
    "%%capture out\nprint(1)",
    "if True:\n    %time x = 1\n",
    "%timeit  -n 3   f(x)",
    "!ls  -la   ",
    "%%time\n",
    "%load_ext autoreload\n%autoreload 2\n",
    "import torch\n%matplotlib inline\n\n\nx = 1\n\n",
    "%%timeit -n 2\nfor i in range(3):\n    pass",
    "!echo \"a b\" 'c'",
    "%pip install -q torch==2.13\n",
]


def test_the_usual_magics_are_translated_as_ipython_does_without_importing_it():
    """`%matplotlib inline`, `!pip install`, `%%time`: IPython's own result, line by line, and IPython (0.12 s
    of CPU to import, in each submission that has a magic) is not imported."""
    from IPython.core.inputtransformer2 import TransformerManager

    ipython = TransformerManager()
    code = (
        "import sys\n"
        "from autograder.sandbox.execute import inert_magics\n"
        f"cells = {USUAL_MAGIC_CELLS!r}\n"
        "print(repr([inert_magics(c) for c in cells]))\n"
        "print('IPython' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    translated, imported = result.stdout.strip().splitlines()
    assert eval(translated) == [ipython.transform_cell(cell) for cell in USUAL_MAGIC_CELLS]
    assert imported == "False"
    assert inert_magics("x = !ls\n") == ipython.transform_cell("x = !ls\n")  # the rest: IPython's own


def test_a_traceback_in_a_translated_cell_points_at_its_line():
    _, runs = _run("%matplotlib inline\nx = 1\n!ls\nraise ValueError('ici')\n", "%%time\ny = 2\nz = y / 0\n")
    assert [(f.cell, f.line, f.text) for f in runs[0].error.frames] == [(1, 4, "raise ValueError('ici')")]
    assert [(f.cell, f.line) for f in runs[1].error.frames][-1] == (2, 3)


def test_translating_a_cell_full_of_magics_is_stopped_by_the_cells_time_limit():
    """IPython tokenizes the whole cell again after each magic it translates: a large cell of them takes
    minutes, which the cell's own timer stops (in the grader, the sandboxed worker runs this). Its first line
    (`x = !ls`) is one the kit's own line-by-line translation leaves to IPython, so IPython reads the cell."""
    slow = "files = !ls\n" + "".join(f"%time print({i})\nv{i}: int\n" for i in range(15_000))
    namespace = new_namespace()
    started = time.monotonic()
    runs = run_cells([CodeCell(1, slow), CodeCell(2, "after = 1\n")], namespace, cell_seconds=1)
    assert time.monotonic() - started < 10
    assert runs[0].error.type_name == "TimeLimitExceeded"
    assert runs[1].ok
    assert namespace["after"] == 1


@pytest.mark.parametrize(
    "catch",
    ["pass", "raise SystemError('the alarm, turned into another error on its way')"],
    ids=["dropped", "replaced"],
)
def test_a_time_limit_lost_on_its_way_still_stops_the_cell(catch):
    """Python drops an exception raised in a weakref callback or a ``__del__``, and C code may turn it
    into a SystemError: the cell that ran past its time is still the time limit's, whatever came out."""
    cell = f"try:\n    while True:\n        pass\nexcept BaseException:\n    {catch}\nafter_the_loop = 1\n"
    namespace = new_namespace()
    runs = run_cells([CodeCell(1, cell), CodeCell(2, "next_cell = 1\n")], namespace, cell_seconds=0.3)
    assert runs[0].error.type_name == "TimeLimitExceeded"
    assert runs[1].ok
    assert namespace["next_cell"] == 1
