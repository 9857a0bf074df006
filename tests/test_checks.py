"""Checks: a failure names the likeliest mistake, then what was expected against what came back."""

from __future__ import annotations

import time

import pytest
import torch

from autograder.grading.checks import Hint, Mistake, expect_close, expect_equal, expect_raises, hints_for_errors, shown
from autograder.grading.student import StudentError
from autograder.results import ErrorInfo

WRONG = Hint("wrong", "Faux.")
OVER_BATCH = Hint("over_batch", "Softmax sur le batch.")


def _raised(type_name: str, *bases: str) -> StudentError:
    return StudentError("f", ErrorInfo(type_name, "boom", (), (type_name, *bases, "Exception")))


def test_a_close_result_passes_and_a_known_wrong_one_gets_its_hint():
    logits = torch.randn(4, 3)
    expect_close(torch.softmax(logits, 1) + 1e-7, torch.softmax(logits, 1), WRONG)
    with pytest.raises(Mistake) as caught:
        expect_close(torch.softmax(logits, 0), torch.softmax(logits, 1), WRONG, {OVER_BATCH: torch.softmax(logits, 0)})
    assert caught.value.hint is OVER_BATCH
    assert str(caught.value).startswith("Softmax sur le batch.\n")


def test_an_unknown_wrong_result_gets_the_default_hint_and_where_it_differs():
    expected = torch.zeros(2, 3)
    got = expected.clone()
    got[1, 2] = 5.0
    with pytest.raises(Mistake) as caught:
        expect_close(got, expected, WRONG)
    assert caught.value.hint is WRONG
    assert "1 valeur(s) sur 6" in str(caught.value)
    assert "[1, 2]" in str(caught.value)


def test_equal_values_pass_and_nan_is_never_close():
    """The shortcut for equal tensors changes nothing allclose decides: NaN is close to nothing, even NaN."""
    expected = torch.tensor([[0.0, float("inf"), 1.5], [-2.0, 3.0, 4.0]])
    expect_close(expected.clone(), expected, WRONG)
    expect_close(torch.tensor([-0.0, 1.0]), torch.tensor([0.0, 1.0]), WRONG)
    with_nan = torch.tensor([float("nan"), 1.0])
    for got in (with_nan.clone(), with_nan):  # a copy, or the very tensor
        with pytest.raises(Mistake) as caught:
            expect_close(got, with_nan, WRONG)
        assert caught.value.hint is WRONG
    with pytest.raises(Mistake) as caught:  # equal values of another dtype: still the dtype's hint
        expect_close(expected.double(), expected, WRONG)
    assert caught.value.hint.id == "wrong_dtype"


@pytest.mark.parametrize(
    ("got", "hint_id", "words"),
    [
        (None, "nothing_returned", "None"),
        ([1.0, 2.0], "list_instead_of_tensor", "list"),
        ({"a": 1}, "not_a_tensor", "dict"),
        (torch.zeros(3, 2), "axes_in_wrong_order", "(2, 3)"),
        (torch.zeros(4), "wrong_shape", "(2, 3)"),
        (torch.zeros(2, 3, dtype=torch.float64), "wrong_dtype", "float64"),
    ],
)
def test_type_shape_and_dtype_problems_are_named(got, hint_id, words):
    with pytest.raises(Mistake) as caught:
        expect_close(got, torch.zeros(2, 3), WRONG)
    assert caught.value.hint.id == hint_id
    assert words in str(caught.value)


def test_plain_values_compare_by_value_and_type():
    expect_equal(12, 12, WRONG)
    expect_equal(12.0, 12, WRONG)
    expect_equal((1, (2, 3)), (1, (2, 3)), WRONG)
    with pytest.raises(Mistake) as caught:
        expect_equal([1, 2], (1, 2), WRONG, {OVER_BATCH: [1, 2]})
    assert caught.value.hint is OVER_BATCH
    with pytest.raises(Mistake):
        expect_equal(True, 1, WRONG)


def test_expect_raises_wants_that_error_from_the_student():
    with expect_raises("ValueError", WRONG):
        raise _raised("ValueError")
    with pytest.raises(Mistake, match="attendu ValueError, obtenu IndexError"), expect_raises("ValueError", WRONG):
        raise _raised("IndexError", "LookupError")
    with pytest.raises(Mistake, match="aucune"), expect_raises("ValueError", WRONG):
        pass


def test_an_unfinished_stub_is_never_mistaken_for_a_runtime_error():
    stub = _raised("NotImplementedError", "RuntimeError")
    with pytest.raises(StudentError), expect_raises("ValueError", WRONG):
        raise stub
    with pytest.raises(StudentError), hints_for_errors({"RuntimeError": WRONG}):
        raise stub
    with pytest.raises(Mistake), hints_for_errors({"RuntimeError": WRONG}):
        raise _raised("RuntimeError")


def test_pairs_of_tensors_compare_part_by_part_with_their_dtypes():
    pair = (torch.ones(2), torch.zeros(2))
    expect_close((torch.ones(2), torch.zeros(2)), pair, WRONG)
    with pytest.raises(Mistake) as caught:
        expect_close((torch.ones(2), torch.zeros(2, dtype=torch.float64)), pair, WRONG)
    assert caught.value.hint.id == "wrong_dtype"


def test_the_expected_value_can_be_kept_out_of_the_message():
    with pytest.raises(Mistake) as caught:
        expect_equal("many-to-one", "many-to-many", WRONG, reveal_expected=False)
    assert "many-to-many" not in str(caught.value)
    assert "many-to-one" in str(caught.value)


def test_a_wrong_pair_says_which_element_differs():
    with pytest.raises(Mistake) as caught:
        expect_close((torch.ones(2), torch.ones(2)), (torch.ones(2), torch.zeros(2)), WRONG)
    assert "élément 1" in str(caught.value)


def test_a_pair_of_the_wrong_length_or_shape_is_named():
    pair = (torch.ones(2), torch.zeros(2))
    with pytest.raises(Mistake) as caught:
        expect_close(torch.ones(2, 2), pair, WRONG)
    assert caught.value.hint.id == "wrong_structure"
    with pytest.raises(Mistake) as caught:
        expect_close((torch.ones(2), torch.zeros(3)), pair, WRONG)
    assert caught.value.hint.id == "wrong_shape"
    assert "élément 1" in str(caught.value)


def test_small_values_are_shown_in_pythons_notation_in_both_languages():
    assert shown((9.0, 3.0)) == "(9.0, 3.0)"
    assert shown((1,)) == "(1,)"
    assert shown({"a": [1, "b"]}) == "{'a': [1, 'b']}"
    assert shown(torch.tensor(2.5)) == "tensor(2.5)"
    assert shown(torch.Size([4, 3])) == "torch.Size([4, 3])"
    assert (shown(torch.zeros(2, 3)), shown(torch.zeros(2, 3)).en) == (
        "<tenseur de forme (2, 3)>",
        "<tensor of shape (2, 3)>",
    )
    assert (shown(list(range(9))), shown(list(range(9))).en) == (
        "[0, 1, 2, 3, …] (9 éléments)",
        "[0, 1, 2, 3, …] (9 items)",
    )


@pytest.mark.parametrize(
    "value",
    [
        [torch.tensor(float(i)) for i in range(300_000)],
        [float(i) for i in range(300_000)],
        "x" * 1_000_000,
        10**4299,  # str() of an int past 4300 digits raises: never called
        {str(i): [float(i)] * 5 for i in range(100_000)},
        ([[[[[1.5] * 1000] * 1000]]], "y" * 10_000),
    ],
    ids=["300k-scalar-tensors", "300k-floats", "1M-chars", "4300-digits", "100k-keys", "nested"],
)
def test_describing_any_value_has_a_fixed_budget(value):
    """A failed check looks at a few of the value's elements, whatever its size: bounded time, short message."""
    start = time.perf_counter()
    for check in (
        lambda: expect_close(value, torch.zeros(3, 4), WRONG),
        lambda: expect_equal(value, (1, 2), WRONG),
        lambda: expect_close(value, (torch.zeros(2), torch.zeros(2)), WRONG),
    ):
        with pytest.raises(Mistake) as caught:
            check()
        message = caught.value.message
        assert len(message) < 700, message
        assert len(message.en) < 700, message.en
        assert "…" in message or "chiffres" in message
    assert time.perf_counter() - start < 0.5
