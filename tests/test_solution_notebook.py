"""The solution notebook: runs clean in a real kernel, follows the contract, and is valid nbgrader source."""

from __future__ import annotations

import ast

import pytest
from conftest import (
    CONTRACT,
    SOLUTION_REGION,
    TOTAL_POINTS,
    check_cells,
    errors_of,
    nbgrader_meta,
    solution_cells,
)
from nbgrader.nbgraderformat import MetadataValidator


def test_solution_runs_top_to_bottom_without_error(executed_solution):
    failed = {c.id: [f"{e.ename}: {e.evalue}" for e in errors_of(c)] for c in executed_solution.cells if errors_of(c)}
    assert failed == {}


def test_every_visible_check_passes_and_says_so(executed_solution):
    for cell in check_cells(executed_solution):
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        assert not errors_of(cell), cell.id
        assert printed.strip(), f"{cell.id} tells the student nothing when it passes"


def test_no_cell_writes_to_stderr(executed_solution):
    # nbgrader scores a test cell 0 when it writes anything to stderr (a warning is enough).
    noisy = [c.id for c in executed_solution.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert noisy == []


def test_question_ids_and_points_follow_the_contract(solution_nb):
    points = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in check_cells(solution_nb)}
    assert points == {qid: pts for qid, (_, pts) in CONTRACT.items()}
    assert sum(points.values()) == TOTAL_POINTS


def test_each_question_has_one_solution_cell_with_the_contract_signature(solution_nb):
    signatures = {}
    for cell in solution_cells(solution_nb):
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef):
                signatures[node.name] = f"{node.name}({ast.unparse(node.args)})"
            elif isinstance(node, ast.Assign):
                signatures.update({t.id: t.id for t in node.targets if isinstance(t, ast.Name)})
    assert signatures == {qid: signature for qid, (signature, _) in CONTRACT.items()}


def test_each_solution_cell_has_one_marked_region_and_functions_have_docstrings(solution_nb):
    for cell in solution_cells(solution_nb):
        assert len(SOLUTION_REGION.findall(cell.source)) == 1, cell.id
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef):
                doc = ast.get_docstring(node) or ""
                assert "Paramètres" in doc, f"{node.name}: the docstring must describe the arguments"
                assert "Renvoie" in doc, f"{node.name}: the docstring must describe the result"


def test_every_assert_in_a_visible_check_carries_a_message(solution_nb):
    for cell in check_cells(solution_nb):
        asserts = [n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Assert)]
        assert asserts, f"{cell.id} checks nothing"
        assert all(a.msg is not None for a in asserts), f"{cell.id} has an assert without a message"


def test_illustration_cells_call_no_student_function(solution_nb):
    # With the stubs in place, only the checks may fail: a demo that calls a stub would fail too.
    answers = set(CONTRACT)
    for cell in solution_nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or meta.get("grade") or meta.get("solution"):
            continue
        used = {n.id for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)}
        assert not used & answers, f"{cell.id} uses {sorted(used & answers)}"


def test_nbgrader_accepts_the_cell_metadata(solution_nb):
    MetadataValidator().validate_nb(solution_nb)
    prose = [c for c in solution_nb.cells if c.cell_type == "markdown"]
    assert prose
    assert all(nbgrader_meta(c).get("locked") for c in prose), "the lab's text is read-only"


@pytest.mark.parametrize(
    "topic",
    [
        r"h_t = \tanh",  # the equation
        "nn.RNNCell",
        "remplissage",  # padding, last relevant state
        "l'axe **du batch**",  # why the lab's softmax normalises over the wrong axis
        "`h_n`",
        "pack_padded_sequence",
        "many-to-many",  # kinds of sequence tasks
        "s'évanouissent",  # vanishing gradients
        "LSTM",
        "bidirectionnel",
    ],
)
def test_the_lab_covers_each_section_of_the_original(solution_nb, topic):
    prose = "\n".join(c.source for c in solution_nb.cells if c.cell_type == "markdown")
    assert topic in prose
