"""The student fixture: values cross as copies through the codec; errors and missing names are data."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from autograder.grading.load import CodeCell
from autograder.grading.student import MissingDefinition, Student, StudentError, UnusableResult
from autograder.sandbox.execute import new_namespace, run_cells
from autograder.sandbox.runtime import InProcessTransport

CODE = """
import torch

TABLE = {"a": 1}
seen = []

def double(x):
    seen.append(x)
    return x * 2

def scale_in_place(x, factor=3):
    x.mul_(factor)
    return x.sum()

def fails(n):
    return helper(n)

def helper(n):
    raise ValueError(f"n vaut {n}")

def exits():
    raise SystemExit(1)

def generator():
    return (i for i in range(3))

def train(layer):
    with torch.no_grad():
        layer.weight.fill_(1.0)
    return layer
"""


@pytest.fixture
def namespace():
    namespace = new_namespace()
    (run,) = run_cells([CodeCell(3, CODE)], namespace)
    assert run.ok
    return namespace


@pytest.fixture
def student(namespace):
    return Student(InProcessTransport(namespace))


def test_arguments_and_results_are_copies(student, namespace):
    x = torch.ones(3)
    got = student.double(x)
    assert torch.equal(got, torch.full((3,), 2.0))
    assert namespace["seen"][0] is not x
    got.zero_()
    assert torch.equal(namespace["seen"][0], torch.ones(3))


def test_arguments_can_be_had_back_as_the_function_left_them(student):
    x = torch.ones(2)
    call = student.scale_in_place.keeping_arguments(x, factor=5)
    assert call.value.item() == 10
    assert torch.equal(call.args[0], torch.full((2,), 5.0))
    assert call.kwargs == {"factor": 5}
    assert torch.equal(x, torch.ones(2))


def test_modules_cross_both_ways(student):
    layer = nn.Linear(2, 3)
    back = student.train(layer)
    assert torch.equal(back.weight, torch.ones(3, 2))
    assert not torch.equal(layer.weight, torch.ones(3, 2))


def test_values_that_are_not_functions_are_decoded(student):
    assert student.TABLE == {"a": 1}


def test_a_student_exception_becomes_a_student_error_with_their_traceback(student):
    with pytest.raises(StudentError) as caught:
        student.fails(4)
    error = caught.value
    assert error.type_name == "ValueError"
    assert error.is_a("Exception")
    assert not error.is_a("TypeError")
    assert error.info.message == "n vaut 4"
    assert [(f.cell, f.function) for f in error.info.frames] == [(3, "fails"), (3, "helper")]
    assert not isinstance(error, ValueError)


def test_system_exit_is_just_an_error_of_that_call(student):
    with pytest.raises(StudentError) as caught:
        student.exits()
    assert caught.value.type_name == "SystemExit"
    assert student.double(1) == 2


def test_a_result_outside_the_codec_fails_the_test_not_the_run(student):
    with pytest.raises(UnusableResult, match="generator"):
        student.generator()


def test_a_missing_name_says_so_in_french():
    student = Student(InProcessTransport(new_namespace()), explain_missing=lambda name: f"{name} : absent")
    with pytest.raises(MissingDefinition, match="rnn_cell_forward : absent"):
        student.rnn_cell_forward(1)
    default = Student(InProcessTransport(new_namespace()))
    with pytest.raises(MissingDefinition, match="n'est pas défini"):
        _ = default.TASK_TYPES


def test_a_call_that_never_returns_is_stopped_at_the_call_limit():
    namespace = new_namespace()
    source = (
        "import time\ndef spin():\n    stop = time.monotonic() + 5\n    while time.monotonic() < stop:\n        pass\n"
    )
    run_cells([CodeCell(1, source)], namespace)
    student = Student(InProcessTransport(namespace, call_seconds=0.3))
    started = time.monotonic()
    with pytest.raises(StudentError) as caught:
        student.spin()
    assert time.monotonic() - started < 3
    assert caught.value.type_name == "TimeLimitExceeded"
