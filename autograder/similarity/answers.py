"""Answers: each student's own code for each question, out of their notebook's cells.

A question's answer is the last top-level definition of its name (the function, or the statements
that build ``TASK_TYPES``), without its docstring, followed by the student's helper functions it
calls (those the lab did not give, two levels deep); another question's function it calls is that
question's answer, not this one's. Cells are parsed with :mod:`ast`, never run: IPython lines
(``%magic``, ``!shell``) are blanked first, and a cell that does not parse, or is larger than
:data:`MAX_CELL_CHARACTERS`, is left out. Which cell holds what does not matter, so cells merged,
split or reordered give the same answers.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_CELL_CHARACTERS = 200_000  # far beyond a lab's cell: a bigger one is no answer, and costs the parser
MAX_ANSWER_CHARACTERS = 40_000
_IPYTHON_LINE = re.compile(r"^[ \t]*[%!].*$", re.M)
_HELPER_DEPTH = 2
_LINE = re.compile(r".*?(?:\r\n|\r|\n)|.+", re.S)


@dataclass(frozen=True)
class Answer:
    """One student's code for one question: the parts in order, each a source text of theirs."""

    question: str
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)


def top_level(sources: Iterable[str]) -> tuple[dict[str, ast.FunctionDef | ast.AsyncFunctionDef], dict[str, list]]:
    """The last definition of each top-level function, and the top-level statements assigning each
    name (in order), over cells run in order; with the source text each node came from."""
    functions: dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]] = {}
    assigned: dict[str, list[tuple[ast.stmt, str]]] = {}
    for source in sources:
        if len(source) > MAX_CELL_CHARACTERS:
            continue
        text = _IPYTHON_LINE.sub("", source)
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions[node.name] = (node, text)
                assigned.pop(node.name, None)
            else:
                for name in _assigned_names(node):
                    if isinstance(node, ast.Assign | ast.AnnAssign) and _plain_target(node, name):
                        assigned[name] = []  # a new value: what came before no longer counts
                    assigned.setdefault(name, []).append((node, text))
                    functions.pop(name, None)
    return functions, assigned  # type: ignore[return-value]  # (node, text) pairs, read by answers()


def answers(sources: Sequence[str], questions: Sequence[str], given: Iterable[str] = ()) -> dict[str, Answer]:
    """Each question's answer in these cells (a question the student did not define is left out).
    ``given`` names the functions the lab gave, which are nobody's helpers."""
    functions, assigned = top_level(sources)
    skip = set(questions) | set(given)
    found = {}
    for question in questions:
        parts: list[str] = []
        if question in functions:
            node, text = functions[question]  # type: ignore[misc]
            parts.append(_without_docstring(node, text))
            for helper in _helpers(node, functions, skip):
                helper_node, helper_text = functions[helper]  # type: ignore[misc]
                parts.append(_without_docstring(helper_node, helper_text))
        elif question in assigned:
            parts += [_segment(node, text) for node, text in assigned[question]]
        parts = [part for part in parts if part.strip()]
        if parts:
            found[question] = Answer(question, tuple(_capped(parts)))
    return found


def _assigned_names(node: ast.stmt) -> list[str]:
    """Top-level names a statement gives a value to, or changes in place (``X[k] = v``, ``X.update(...)``)."""
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        targets = [node.value.func]
    names = []
    for target in targets:
        while isinstance(target, ast.Subscript | ast.Attribute):
            target = target.value
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            names += [element.id for element in target.elts if isinstance(element, ast.Name)]
    return names


def _plain_target(node: ast.Assign | ast.AnnAssign, name: str) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return any(isinstance(target, ast.Name) and target.id == name for target in targets)


def _helpers(node: ast.AST, functions: dict, skip: set[str]) -> list[str]:
    """The student's own functions ``node`` calls, then those they call, two levels deep, in order."""
    found: list[str] = []
    frontier = [node]
    for _ in range(_HELPER_DEPTH):
        following = []
        for current in frontier:
            for name in _names_used(current):
                if name in functions and name not in skip and name not in found:
                    found.append(name)
                    following.append(functions[name][0])
        frontier = following
    return found


def _names_used(node: ast.AST) -> list[str]:
    seen: list[str] = []
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and child.id not in seen:
            seen.append(child.id)
    return seen


def _segment(node: ast.stmt, text: str) -> str:
    """The node's source, as ``ast.get_source_segment(text, node, padded=True)`` gives it, without splitting
    the whole cell into lines at every call."""
    lines = _lines(text)
    end = node.end_lineno or node.lineno
    if not 0 < node.lineno <= end <= len(lines):
        return ""
    first, last = lines[node.lineno - 1], lines[end - 1]
    start, stop = _offset(first, node.col_offset), _offset(last, node.end_col_offset or len(last))
    if node.lineno == end:
        return first[start:stop]
    middle = "".join(lines[node.lineno : end - 1])
    return " " * len(first[:start]) + first[start:] + middle + last[:stop]


@functools.lru_cache(maxsize=64)
def _lines(text: str) -> list[str]:
    """The lines as the parser counts them: ended by \\n, \\r or \\r\\n only (not by \\f or U+2028)."""
    return _LINE.findall(text)


def _offset(line: str, byte_offset: int) -> int:
    """A column in characters, from the UTF-8 byte offset the parser gives."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))


def _without_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef, text: str) -> str:
    """The function's source with its docstring (what the lab wrote, or the student's prose) taken out."""
    source = _segment(node, text)
    first = node.body[0] if node.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        docstring = _segment(first, text).strip()
        if docstring:
            source = source.replace(docstring, "", 1)
    return source


def _capped(parts: list[str]) -> list[str]:
    kept, total = [], 0
    for part in parts:
        if total + len(part) > MAX_ANSWER_CHARACTERS:
            break
        kept.append(part)
        total += len(part)
    return kept
