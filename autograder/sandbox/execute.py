"""Execute: run a submission's code cells one by one into a namespace, each cell's failure its own.

This is the in-process runner (the nbgrader bridge and the trusted grader before the sandboxed
worker). Every cell is compiled and run on its own, so a syntax error or an exception in one
cell costs that cell only; its error is kept, as data, for the feedback. IPython syntax (magics,
``!`` lines) is translated here, as each cell starts, within that cell's time limit.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import linecache
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence

from autograder.output import CappedText
from autograder.results import CellRun, CodeCell
from autograder.sandbox.runtime import CELL_FILENAME, TimeLimitExceeded, error_info, time_limit, torch_globals_restored

# Magics whose code is the student's own and runs (timed or captured in Jupyter, plainly here).
_CODE_LINE_MAGICS = {"time", "timeit", "prun"}
_CODE_CELL_MAGICS = {"time", "timeit", "prun", "capture"}


class InertShell:
    """What ``get_ipython()`` returns while grading: magics that wrap code run the code; the rest,
    shell escapes included, do nothing."""

    def __init__(self, namespace: dict) -> None:
        self._namespace = namespace

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> None:
        if name in _CODE_LINE_MAGICS:
            code = _strip_magic_options(line)
            exec(compile(code, "<magic>", "exec"), self._namespace)

    def run_cell_magic(self, name: str, line: str, body: str) -> None:
        if name in _CODE_CELL_MAGICS:
            # Its own cell's file name, one line down, so tracebacks point at the right line.
            filename = self._namespace.get("__cell_file__", "<magic>")
            exec(compile("\n" + body, filename, "exec"), self._namespace)

    def system(self, command: str) -> None:
        return None

    def getoutput(self, command: str, split: bool = True) -> list:
        return []

    def __getattr__(self, name: str) -> object:
        return lambda *args, **kwargs: None  # display hooks, config calls: nothing happens


def _strip_magic_options(line: str) -> str:
    """``-n 10 -r 3 f(x)`` -> ``f(x)``: timeit's options are not Python."""
    words = line.split()
    while words and words[0].startswith("-"):
        flag = words.pop(0)
        if flag in ("-n", "-r", "-p", "-t") and words and words[0].isdigit():
            words.pop(0)
    return " ".join(words) if words != line.split() else line


_transformer = None  # IPython's TransformerManager, made on the first cell that needs it


def inert_magics(source: str) -> str:
    """IPython syntax as plain Python calls on ``get_ipython()``, which :class:`InertShell` makes harmless.

    ``%time x = f()`` becomes ``get_ipython().run_line_magic('time', 'x = f()')``; the shell runs
    the code of ``%time``/``%%time``-like magics and ignores every other magic and every ``!``
    shell line. Source that is not valid Python is returned as it is (it fails to compile, in its
    own cell).

    IPython tokenizes the whole cell again after each piece of syntax it translates (up to 500
    times), so a large cell full of magics takes long: :func:`run_cell` calls this inside the
    cell's time limit, in the sandboxed worker, never in the trusted grader.
    """
    global _transformer
    if "%" not in source and "!" not in source and "?" not in source:
        return source  # the common case, without IPython's tokenizer
    if len(source) <= _PARSED_CHARS and _is_python(source):
        # `a != b`, `x % 2`, "?" in a string: Python already, which IPython leaves as it is. Parsed
        # first, the students' usual notebook never imports IPython.
        return source
    simple = _simple_translation(source)
    if simple is not None:  # `%matplotlib inline`, `!pip install ...`, `%%time`: IPython's result, without it
        return simple
    if _transformer is None:
        from IPython.core.inputtransformer2 import TransformerManager

        _transformer = TransformerManager()
    try:
        return _transformer.transform_cell(source)
    except Exception:  # IPython's tokenizer gives up on some broken code; compiling will report it
        return source


_PARSED_CHARS = 200_000  # a larger cell goes straight to IPython's tokenizer
_ESCAPED_LINE = re.compile(r"([ \t]*)(?:%([A-Za-z_]\w*)(.*)|!(\S.*))")


def _simple_translation(source: str) -> str | None:
    """What IPython makes of the usual cells, line by line and without importing it (an import that costs
    every process CPU, docs/performance.md): ``%name args`` and ``!command`` each alone on its line, or
    a cell that starts with ``%%name args``. None for anything else IPython must read itself (a ``?``,
    a ``!`` or ``%`` within an expression, ``x = !ls``, a continued line, a string over several lines)."""
    if '"""' in source or "'''" in source:
        return None
    lines = source.split("\n")
    if lines[0].startswith("%%"):
        name, _, arguments = lines[0][2:].partition(" ")
        if not name.isidentifier():
            return None
        body = "\n".join(lines[1:])
        body += "\n" if body and not body.endswith("\n") else ""
        return f"get_ipython().run_cell_magic({name!r}, {arguments.strip()!r}, {body!r})\n"
    translated = []
    for line in lines:
        escaped = _ESCAPED_LINE.fullmatch(line)
        if escaped is None:
            translated.append(line)
            continue
        if line.rstrip().endswith("\\"):
            return None
        indent, name, rest, command = escaped.groups()
        if name is not None:
            if rest[:1] not in ("", " "):  # `%name\targs`: IPython reads the name up to a space
                return None
            arguments = rest[1:]
            translated.append(f"{indent}get_ipython().run_line_magic({name!r}, {arguments.rstrip()!r})")
        else:
            translated.append(f"{indent}get_ipython().system({command.rstrip()!r})")
    result = "\n".join(translated)
    result += "" if result.endswith("\n") else "\n"
    return result if _is_python(result) else None


def _is_python(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "\d" in a string: not the cell's output's business
            compile(source, "<cell>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def new_namespace() -> dict:
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    shell = InertShell(namespace)
    namespace["get_ipython"] = lambda: shell
    # What a Jupyter kernel puts in every notebook's builtins: display() prints into the cell's
    # captured output instead of rendering.
    namespace["display"] = _display
    return namespace


def _display(*objects: object, **options: object) -> None:
    for item in objects:
        print(repr(item))


def run_cells(
    cells: Sequence[CodeCell],
    namespace: dict,
    output_cap: int = 64_000,
    cell_seconds: float | None = None,
    on_run: Callable[[CellRun], None] | None = None,
) -> tuple[CellRun, ...]:
    """Run each cell in ``namespace``; one :class:`CellRun` per cell, whatever the cells do.

    ``output_cap`` is the characters of output kept for the whole notebook; the rest is dropped
    with a note in the cell where the cap struck. ``cell_seconds`` stops a runaway cell (see
    :func:`autograder.sandbox.runtime.time_limit`); the names it defined before it stopped are kept.
    ``on_run`` hears of each cell as soon as it has run (the worker reports it to the grader).
    """
    runs = []
    room = output_cap
    with torch_globals_restored(), stdin_closed():
        for cell in cells:
            run = run_cell(cell, namespace, max(room, 0), cell_seconds)
            room -= len(run.output)
            runs.append(run)
            if on_run is not None:
                on_run(run)
    return tuple(runs)


def run_cell(cell: CodeCell, namespace: dict, output_room: int, seconds: float | None) -> CellRun:
    filename = CELL_FILENAME.format(cell.cell)
    namespace["__cell_file__"] = filename
    output = CappedText(output_room)
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = output
    try:
        with time_limit(seconds):
            source = inert_magics(cell.source)  # the student's time: IPython's translation can be slow
            linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
            exec(compile(source, filename, "exec"), namespace)
    except (Exception, SystemExit, TimeLimitExceeded) as error:  # the instructor's Ctrl-C still stops us
        return CellRun(cell.cell, ok=False, error=error_info(error), output=output.text(), limit=_output_limit(output))
    finally:
        sys.stdout, sys.stderr = saved
    return CellRun(cell.cell, ok=True, output=output.text(), limit=_output_limit(output))


def _output_limit(output: CappedText) -> str:
    return "output_kb" if output.dropped else ""


@contextlib.contextmanager
def stdin_closed() -> Iterator[None]:
    """``input()`` in a cell gets end-of-file at once instead of waiting for a keyboard."""
    saved = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        yield
    finally:
        sys.stdin = saved
