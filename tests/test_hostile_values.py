"""Hostile values: whatever a student's function returns, or a name holds, the grader describes it at a
bounded cost and says what was wrong in the student's words, never as its own error.

One `autograder grade -j 1` run grades, beside an honest copy of the solution, the solution with one
answer replaced: a function returning 300 000 scalar tensors, TASK_TYPES as an object that is not a dict, shapes
given as floats, a count given as a float, a function defined as a value. Then, in process, every hidden
test meets a sweep of odd values (huge lists, strings and integers, deep nesting, refused types), as
results and as the names themselves.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import nbformat
import pytest
import torch
from conftest import CONTRACT, LAYOUT, TOTAL_POINTS, VENV_BIN

from autograder.assignment import load_assignment
from autograder.grading.load import CodeCell
from autograder.grading.student import Student
from autograder.grading.suites import run_suite
from autograder.protocol.codec import Codec, CodecError, Limits
from autograder.results import Outcome
from autograder.sandbox.execute import new_namespace, run_cells
from autograder.sandbox.runtime import InProcessTransport

ASSIGNMENT = load_assignment()
FUNCTIONS = [question for question in CONTRACT if question != "TASK_TYPES"]

# Each notebook: the solution with these solution cells replaced, the hint each failed test of theirs gets
# and the tests that fail (the others' questions keep full marks).
NOTEBOOKS = {
    "many_tensors": (
        {
            "classify_hidden": "import torch\ndef classify_hidden(z, fc):\n"
            "    return [torch.tensor(float(i)) for i in range(300_000)]\n"
        },
        "unusable_result",
        "every test",
    ),
    "task_types_object": (
        {
            "TASK_TYPES": "import types\n\nTASK_TYPES = types.SimpleNamespace(\n"
            '    pos_tag_of_word="one-to-one", generate_review="one-to-many", review_sentiment="many-to-one",\n'
            '    translation="many-to-many", risk_at_each_step="many-to-many",\n)\n'
        },
        "unusable_result",
        "every test",
    ),
    "float_shapes": (
        {
            "gru_output_shapes": "def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1,"
            " bidirectional=False):\n"
            "    directions = 2 if bidirectional else 1\n"
            "    out_shape = (batch_size, seq_size, hidden_size * directions / 1)\n"
            "    h_n_shape = (num_layers * directions / 1, batch_size, hidden_size)\n"
            "    return out_shape, h_n_shape\n"
        },
        "shapes_not_ints",
        "every test",
    ),
    "float_count": (
        {
            "count_recurrent_parameters": "def count_recurrent_parameters(kind, input_size, hidden_size,"
            " num_layers=1, bidirectional=False):\n"
            '    blocks = {"rnn": 1, "gru": 3, "lstm": 4}\n'
            "    if kind not in blocks:\n"
            "        raise ValueError(kind)\n"
            "    d = 2 if bidirectional else 1\n"
            "    total = 0.0\n"
            "    for layer in range(num_layers):\n"
            "        size_in = input_size if layer == 0 else d * hidden_size\n"
            "        total += d * blocks[kind] * hidden_size * (size_in + hidden_size + 2)\n"
            "    return total\n"
        },
        "count_not_int",
        "test_count_matches_pytorch",  # the tests of ValueError judge no count
    ),
    "value_not_function": ({"rnn_cell_forward": "rnn_cell_forward = 3\n"}, "not_a_function", "every test"),
}
HOSTILE_SECONDS = 60  # the grading of the 300 000 tensors, the student's own time (building them) included
GRADER_PEAK_MB = 500  # the grader process's peak RSS over the whole batch: torch, pytest and the suites, little more
MESSAGE_CHARS = 600  # one failed test's message


def _notebook(replacements: dict[str, str]) -> nbformat.NotebookNode:
    notebook = nbformat.read(LAYOUT.solution_notebook, as_version=4)
    for question, source in replacements.items():
        (cell,) = [
            c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{question}_solution"
        ]
        cell.source = source
    return notebook


def _peak_rss_mb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[dict[str, dict], int]:
    """Every notebook above and an honest copy of the solution, graded once by the CLI in one lane (so that
    the grader's own memory is this process's): the results by student, and the grader's peak RSS in MB."""
    root = tmp_path_factory.mktemp("hostile")
    submissions, out = root / "submissions", root / "out"
    submissions.mkdir()
    shutil.copy(LAYOUT.solution_notebook, submissions / "honest.ipynb")
    for name, (replacements, _, _) in NOTEBOOKS.items():
        nbformat.write(_notebook(replacements), submissions / f"{name}.ipynb")
    command = [str(VENV_BIN / "autograder"), "grade", str(submissions), "--out", str(out), "-j", "1"]
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, deadline = 0, time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        peak = max(peak, _peak_rss_mb(process.pid))  # VmHWM only grows: the last reading is the peak
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr[-3000:]
    results = {path.stem: json.loads(path.read_text()) for path in (out / "results").glob("*.json")}
    return results, peak


def _scores(result: dict) -> dict[str, float]:
    return {question["id"]: question["score"] for question in result["questions"]}


def test_the_honest_copy_keeps_full_marks(graded):
    results, _ = graded
    assert results["honest"]["score"] == TOTAL_POINTS


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_each_hostile_answer_costs_its_question_only_with_the_students_message(graded, name):
    results, _ = graded
    replacements, hint, failing = NOTEBOOKS[name]
    scores = _scores(results[name])
    assert {q for q, score in scores.items() if score < CONTRACT[q][1]} == set(replacements), scores
    tests = [t for t in results[name]["tests"] if t["question"] in replacements]
    failed = [t for t in tests if t["score"] < t["max_score"]]
    assert failed == [t for t in tests if failing == "every test" or t["test"].startswith(failing)]
    for test in failed:
        assert (test["score"], test["outcome"], test["hint"]) == (0, "failed", hint), test
        assert "correcteur (" not in test["output"]  # never "Erreur interne du correcteur (...)"
        assert 0 < len(test["output"]) < MESSAGE_CHARS, test["output"]


def test_300000_tensors_are_refused_quickly_and_said_in_a_short_message(graded):
    results, peak = graded
    result = results["many_tensors"]
    assert result["execution_time"] < HOSTILE_SECONDS
    assert peak < GRADER_PEAK_MB
    for test in result["tests"]:
        if test["question"] == "classify_hidden":
            assert "10000 tenseurs" in test["output"], test["output"]
            assert test["limit"] == ""


def test_refused_and_mistyped_values_are_named(graded):
    results, _ = graded
    outputs = {name: results[name]["tests"] for name in NOTEBOOKS}
    mapping = [t["output"] for t in outputs["task_types_object"] if t["question"] == "TASK_TYPES"]
    assert all("types.SimpleNamespace" in o and "dict ordinaire" in o for o in mapping), mapping
    shapes = [t["output"] for t in outputs["float_shapes"] if t["question"] == "gru_output_shapes"]
    assert all("de type float" in o and "(int)" in o for o in shapes), shapes
    count = [t["output"] for t in outputs["float_count"] if t["question"] == "count_recurrent_parameters"]
    assert any("de type float" in o and "int" in o for o in count), count
    value = [t["output"] for t in outputs["value_not_function"] if t["question"] == "rnn_cell_forward"]
    assert all("`rnn_cell_forward` doit être une fonction" in o and "int" in o for o in value), value


# -- in process: every hidden test against odd values ------------------------------------------------------

HOSTILE_VALUES = {
    "floats_20k": lambda: [float(i) / 7 for i in range(20_000)],
    "tensors_500": lambda: [torch.tensor(float(i)) for i in range(500)],
    "string_1m": lambda: "x" * 1_000_000,
    "int_4300_digits": lambda: 10**4299,
    "nested_30": lambda: _nested(30),
    "dict_2k": lambda: {str(i): [i] for i in range(2_000)},
    "pairs_of_lists": lambda: ([0.5] * 10_000, {"a": "b" * 5000}),
    "module": lambda: torch.nn.Linear(3, 2),
    "size": lambda: torch.Size([4, 3]),
    "none": lambda: None,
    "nan": lambda: float("nan"),
    "true": lambda: True,
    "tensor_3d": lambda: torch.zeros(2, 3, 4),
    "ordered_dict": lambda: __import__("collections").OrderedDict(a=1),
    "generator": lambda: (i for i in range(3)),
    "complex_tensor": lambda: torch.zeros(2, dtype=torch.complex64),
}

# Results the codec refuses, from a function that ran (a generator's body never runs), and the tests of what
# a call leaves behind (its arguments, the cell's .grad), which judge only that.
REFUSED_RESULTS = {"complex_tensor"}
JUDGE_THE_ARGUMENTS = {
    "test_inputs_unchanged",
    "test_arguments_unchanged",
    "test_input_left_unchanged",
    "test_cell_gradients_left_empty",
}


def _nested(depth: int) -> list:
    value: list = [1.5]
    for _ in range(depth - 1):
        value = [value, "x"]
    return value


def _namespace(kind: str, as_values: bool) -> dict:
    """Every function of the contract returns the value (or, ``as_values``, every name is the value)."""
    namespace = new_namespace()
    run_cells([CodeCell(1, "import torch\n")], namespace)
    value = HOSTILE_VALUES[kind]()  # one object: each call's result crosses the codec, so is never shared
    for name in FUNCTIONS:
        namespace[name] = value if as_values else (lambda *args, **kwargs: value)
    namespace["TASK_TYPES"] = value
    return namespace


@pytest.mark.parametrize("as_values", [False, True], ids=["returned", "names"])
@pytest.mark.parametrize("kind", list(HOSTILE_VALUES))
def test_any_value_fails_in_the_students_words_at_a_bounded_cost(kind, as_values):
    transport = InProcessTransport(_namespace(kind, as_values), call_seconds=10)
    start = time.monotonic()
    outcomes = run_suite(ASSIGNMENT, lambda: Student(transport))
    assert time.monotonic() - start < 60
    assert outcomes
    for outcome in outcomes:
        if not as_values and kind in REFUSED_RESULTS and outcome.name in JUDGE_THE_ARGUMENTS:
            # The arguments come back even when the result is refused: the property is judged, and holds.
            assert outcome.outcome is Outcome.PASSED, (outcome.name, outcome.message)
            continue
        assert outcome.outcome is not Outcome.PASSED, (outcome.name, outcome.message)
        assert outcome.hint not in ("", "grader_error"), (outcome.name, outcome.message)
        assert 0 < len(outcome.message) < 2 * MESSAGE_CHARS, (outcome.name, outcome.message)
        assert len(outcome.message_en) < 2 * MESSAGE_CHARS


def test_the_codec_refuses_many_tensors_or_containers_before_decoding_them():
    codec = Codec()
    tree = Codec(Limits(max_tensors=10**6, max_containers=10**6)).encode([torch.tensor(1.0)] * 10_001)
    start = time.monotonic()
    with pytest.raises(CodecError, match="more than 10000 tensors"):
        codec.decode(tree)
    with pytest.raises(CodecError, match="more than 10000 tensors"):
        codec.encode([torch.tensor(1.0)] * 10_001)
    with pytest.raises(CodecError, match="more than 10000 lists"):
        codec.encode([[] for _ in range(10_001)])
    assert time.monotonic() - start < 5
    assert len(codec.decode(codec.encode([torch.tensor(1.0)] * 10_000))) == 10_000
    with pytest.raises(CodecError, match="4300 digits"):  # str() could not write it: refused on the way out
        codec.encode(10**4300)
    assert codec.decode(codec.encode(10**4299)) == 10**4299


def test_a_dict_subclass_is_read_as_the_dict_it_is():
    """An OrderedDict or a defaultdict passes the notebook's visible check (isinstance dict): the hidden
    tests read it as a dict, with dict's own methods (a subclass's overrides never run in the grader)."""
    import collections

    answer = {
        "pos_tag_of_word": "one-to-one",
        "generate_review": "one-to-many",
        "review_sentiment": "many-to-one",
        "translation": "many-to-many",
        "risk_at_each_step": "many-to-many",
    }

    class Loud(dict):
        def items(self):  # never called: the codec reads the dict's own items
            raise RuntimeError("ran")

    for value in (collections.OrderedDict(answer), collections.defaultdict(str, answer), Loud(answer)):
        namespace = new_namespace()
        namespace["TASK_TYPES"] = value
        outcomes = run_suite(ASSIGNMENT, lambda namespace=namespace: Student(InProcessTransport(namespace)))
        mine = [o for o in outcomes if o.question == "TASK_TYPES"]
        assert mine
        assert all(o.outcome is Outcome.PASSED for o in mine), [(o.name, o.message) for o in mine]
