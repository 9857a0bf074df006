"""Checks: assertions for the hidden suites that fail with a hint naming the student's likely mistake.

A check compares what came back from the student with what PyTorch computes, and when they
differ it looks for the reason: the result matches a known wrong variant (softmax over the
batch, ``h_n`` read instead of the last relevant step, ...), or has the wrong type or shape.
The failure (:class:`Mistake`) carries the hint's id, for reports, and a message in French and
English (:class:`autograder.language.Text`): the hint first, then what was expected against
what came back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch

from autograder.language import Text, english, fr_en
from autograder.transport import StudentError

__all__ = ["Hint", "Mistake", "expect_close", "expect_equal", "expect_raises", "hints_for_errors", "raised"]


@dataclass(frozen=True)
class Hint:
    """A likely mistake: a stable id (for reports and statistics) and what to tell the student,
    in French (``text``) and in English (``en``, for ``--lang en``)."""

    id: str
    text: str
    en: str = ""

    @property
    def sentence(self) -> Text:
        return Text(self.text, self.en or self.text)


class Mistake(AssertionError):
    """A failed check: the hint that explains it and what was expected against what came back."""

    def __init__(self, hint: Hint, detail: str = "") -> None:
        self.message = Text(f"{hint.text}\n{detail}".strip(), f"{hint.en or hint.text}\n{english(detail)}".strip())
        super().__init__(str(self.message))
        self.hint = hint
        self.detail = detail


NOT_A_TENSOR = Hint("not_a_tensor", "Le résultat doit être un tenseur PyTorch.", "The result must be a PyTorch tensor.")
WRONG_SHAPE = Hint(
    "wrong_shape", "Le résultat n'a pas la forme attendue.", "The result does not have the expected shape."
)
WRONG_DTYPE = Hint(
    "wrong_dtype", "Le résultat n'a pas le type (dtype) attendu.", "The result does not have the expected type (dtype)."
)
WRONG_STRUCTURE = Hint(
    "wrong_structure",
    "Le résultat n'a pas la structure attendue (nombre d'éléments renvoyés).",
    "The result does not have the expected structure (number of items returned).",
)
NOT_RAISED = Hint(
    "no_error_raised",
    "Une erreur était attendue, mais votre fonction n'en a levé aucune.",
    "An error was expected, but your function raised none.",
)
THE_RESULT = Text("le résultat", "the result")


def expect_close(
    got: object,
    expected: torch.Tensor,
    hint: Hint,
    mistakes: Mapping[Hint, object] | None = None,
    *,
    what: str = THE_RESULT,
    atol: float = 1e-5,
    rtol: float = 1.3e-6,
    check_dtype: bool = True,
) -> None:
    """``got`` equals ``expected`` up to float tolerance; otherwise fail with the likeliest hint.

    ``mistakes`` maps a hint to what a typical wrong answer returns (a tensor, a tuple of
    tensors, or a list of such forms); when ``got`` matches one, that hint is the one the
    student reads.
    """
    if _close(got, expected, atol, rtol):
        pairs = zip(got, expected, strict=True) if isinstance(expected, tuple) else [(got, expected)]
        for got_part, expected_part in pairs:
            if check_dtype and got_part.dtype != expected_part.dtype:
                detail = fr_en(
                    "{what} : dtype attendu {e}, obtenu {g}",
                    "{what}: expected dtype {e}, got {g}",
                    what=what,
                    e=_dtype(expected_part),
                    g=_dtype(got_part),
                )
                raise Mistake(WRONG_DTYPE, detail)
        return
    for mistake, wrong in (mistakes or {}).items():
        # A list holds the forms one mistake can take (c_n[-1] or the whole c_n, ...).
        forms = wrong if isinstance(wrong, list) else [wrong]
        if any(form is not None and _close(got, form, atol, rtol) for form in forms):
            raise Mistake(mistake, _difference(got, expected, what))
    if isinstance(expected, tuple):
        _expect_same_structure(got, expected, what)
        raise Mistake(hint, _difference(tuple(got), expected, what))
    if not isinstance(got, torch.Tensor):
        raise Mistake(NOT_A_TENSOR, _expected_got(what, _describe(expected), _kind(got)))
    if got.shape != expected.shape:
        raise Mistake(WRONG_SHAPE, _shapes(what, _shape(expected), _shape(got)))
    raise Mistake(hint, _difference(got, expected, what))


def _expect_same_structure(got: object, expected: tuple, what: str) -> None:
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        raise Mistake(WRONG_STRUCTURE, _expected_got(what, _describe(expected), _describe(got)))
    for index, (got_part, expected_part) in enumerate(zip(got, expected, strict=True)):
        where = _element(what, index)
        if not isinstance(got_part, torch.Tensor):
            raise Mistake(NOT_A_TENSOR, _expected_got(where, _describe(expected_part), _kind(got_part)))
        if got_part.shape != expected_part.shape:
            raise Mistake(WRONG_SHAPE, _shapes(where, _shape(expected_part), _shape(got_part)))


def expect_equal(
    got: object,
    expected: object,
    hint: Hint,
    mistakes: Mapping[Hint, object] | None = None,
    *,
    what: str = THE_RESULT,
    reveal_expected: bool = True,
) -> None:
    """``got == expected`` for plain values (numbers, tuples, strings); otherwise the likeliest hint.

    ``reveal_expected=False`` keeps the expected value out of the message, for a question with
    few possible answers (the feedback must not hand the answer out).
    """
    if _same_value(got, expected):
        return
    detail = (
        _expected_got(what, repr(expected), _short(got))
        if reveal_expected
        else fr_en("{what} : {got}", "{what}: {got}", what=what, got=_short(got))
    )
    for mistake, wrong in (mistakes or {}).items():
        if _same_value(got, wrong):
            raise Mistake(mistake, detail)
    raise Mistake(hint, detail)


@contextlib.contextmanager
def expect_raises(type_name: str, hint: Hint) -> Iterator[None]:
    """The student's code must raise ``type_name`` (or a subclass) inside the block."""
    try:
        yield
    except StudentError as error:
        if error.is_a("NotImplementedError") and type_name != "NotImplementedError":
            raise  # an unfinished stub: say so, not that the wrong error was raised
        if not error.is_a(type_name):
            detail = fr_en("attendu {e}, obtenu {g}", "expected {e}, got {g}", e=type_name, g=error.info.summary())
            raise Mistake(hint, detail) from None
        return
    raise Mistake(hint, fr_en("{s} ({t} attendue)", "{s} ({t} expected)", s=NOT_RAISED.sentence, t=type_name))


@contextlib.contextmanager
def hints_for_errors(hints: Mapping[str, Hint], *, only_if: Mapping[str, str] | None = None) -> Iterator[None]:
    """An error the student's code raises inside the block, of one of these types, gets that hint.

    ``only_if`` maps a type name to words its message must contain for the hint to apply (a
    RuntimeError from ``pack_padded_sequence`` about ``enforce_sorted``, not any RuntimeError).
    """
    try:
        yield
    except StudentError as error:
        if error.is_a("NotImplementedError") and "NotImplementedError" not in hints:
            raise  # a subclass of RuntimeError, but an unfinished stub is not a RuntimeError mistake
        for type_name, hint in hints.items():
            words = (only_if or {}).get(type_name)
            if error.is_a(type_name) and (words is None or words in error.info.message):
                raise Mistake(hint, raised(error)) from error
        raise


def raised(error: StudentError) -> Text:
    """'your function raised ...', as a check's detail."""
    return fr_en("votre fonction a levé {e}", "your function raised {e}", e=error.info.summary())


def _expected_got(what: str, expected: str, got: str) -> Text:
    return fr_en("{what} : attendu {e}, obtenu {g}", "{what}: expected {e}, got {g}", what=what, e=expected, g=got)


def _shapes(what: str, expected: str, got: str) -> Text:
    return fr_en(
        "{what} : forme attendue {e}, obtenue {g}", "{what}: expected shape {e}, got {g}", what=what, e=expected, g=got
    )


def _element(what: str, index: int) -> Text:
    return fr_en("{what}, élément {i}", "{what}, item {i}", what=what, i=index)


def _close(got: object, expected: object, atol: float, rtol: float) -> bool:
    if isinstance(expected, tuple):
        return (
            isinstance(got, tuple)
            and len(got) == len(expected)
            and all(_close(g, e, atol, rtol) for g, e in zip(got, expected, strict=True))
        )
    if not isinstance(got, torch.Tensor) or not isinstance(expected, torch.Tensor):
        return False
    if got.shape != expected.shape or got.is_complex() or got.dtype == torch.bool:
        return False
    if not (got.is_floating_point() or expected.is_floating_point()):
        return torch.equal(got.to(torch.int64), expected.to(torch.int64))
    # Equal values are close (NaN is equal to nothing, as allclose has it): 1 us against 18 for a small
    # tensor, 0.16 ms against 3.5 for the large batch's 200 000 values, in float64 copies.
    if got.dtype == expected.dtype and torch.equal(got, expected):
        return True
    return torch.allclose(got.double(), expected.double(), atol=atol, rtol=rtol, equal_nan=False)


def _same_value(got: object, expected: object) -> bool:
    if type(expected) is tuple:
        return (
            isinstance(got, tuple)
            and len(got) == len(expected)
            and all(_same_value(g, e) for g, e in zip(got, expected, strict=True))
        )
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, (int, float)):
        return isinstance(got, (int, float)) and got == expected
    return type(got) is type(expected) and got == expected


def _difference(got: object, expected: torch.Tensor, what: str) -> Text:
    if isinstance(expected, tuple) and isinstance(got, tuple) and len(got) == len(expected):
        for index, (got_part, expected_part) in enumerate(zip(got, expected, strict=True)):
            if not _close(got_part, expected_part, 1e-5, 1.3e-6):
                return _difference(got_part, expected_part, _element(what, index))
    if not isinstance(got, torch.Tensor) or not isinstance(expected, torch.Tensor) or got.shape != expected.shape:
        return _expected_got(what, _describe(expected), _describe(got))
    wrong = ~torch.isclose(got.double(), expected.double(), atol=1e-5, rtol=1.3e-6)
    where = tuple(int(i) for i in wrong.nonzero()[0]) if wrong.any() else ()
    counts = {"what": what, "n": int(wrong.sum()), "total": expected.numel()}
    text = fr_en("{what} : {n} valeur(s) sur {total} diffèrent", "{what}: {n} value(s) out of {total} differ", **counts)
    if where:
        values = {"at": ", ".join(map(str, where)), "e": expected[where].item(), "g": got[where].item()}
        example = fr_en(
            "par exemple en [{at}] : attendu {e:.5g}, obtenu {g:.5g}",
            "for example at [{at}]: expected {e:.5g}, got {g:.5g}",
            **values,
        )
        text = Text(f"{text}\n{example}", f"{text.en}\n{example.en}")
    return text


def _describe(value: object) -> str:
    if isinstance(value, tuple):
        parts = [_describe(v) for v in value]
        return Text("(" + ", ".join(parts) + ")", "(" + ", ".join(english(p) for p in parts) + ")")
    if isinstance(value, torch.Tensor):
        return fr_en("un tenseur de forme {s}", "a tensor of shape {s}", s=_shape(value))
    return _kind(value)


def _shape(tensor: object) -> str:
    return str(tuple(tensor.shape)) if isinstance(tensor, torch.Tensor) else _kind(tensor)


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _kind(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return fr_en("un tenseur de forme {s}", "a tensor of shape {s}", s=tuple(value.shape))
    if value is None:
        return Text("None (la fonction ne renvoie rien ?)", "None (does the function return nothing?)")
    return f"{type(value).__name__} {_short(value)}"


def _short(value: object, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
