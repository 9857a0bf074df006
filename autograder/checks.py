"""Checks: assertions for the hidden suites that fail with a hint naming the student's likely mistake.

A check compares what came back from the student with what PyTorch computes, and when they
differ it looks for the reason: the result matches a known wrong variant (softmax over the
batch, ``h_n`` read instead of the last relevant step, ...), or has the wrong type or shape.
The failure (:class:`Mistake`) carries the hint's id, for reports, and a French message: the
hint first, then what was expected against what came back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch

from autograder.transport import StudentError

__all__ = ["Hint", "Mistake", "expect_close", "expect_equal", "expect_raises", "hints_for_errors"]


@dataclass(frozen=True)
class Hint:
    """A likely mistake: a stable id (for reports and statistics) and what to tell the student."""

    id: str
    text: str


class Mistake(AssertionError):
    """A failed check: the hint that explains it and what was expected against what came back."""

    def __init__(self, hint: Hint, detail: str = "") -> None:
        super().__init__(f"{hint.text}\n{detail}".strip())
        self.hint = hint
        self.detail = detail


NOT_A_TENSOR = Hint("not_a_tensor", "Le résultat doit être un tenseur PyTorch.")
WRONG_SHAPE = Hint("wrong_shape", "Le résultat n'a pas la forme attendue.")
WRONG_DTYPE = Hint("wrong_dtype", "Le résultat n'a pas le type (dtype) attendu.")
WRONG_STRUCTURE = Hint("wrong_structure", "Le résultat n'a pas la structure attendue (nombre d'éléments renvoyés).")
NOT_RAISED = Hint("no_error_raised", "Une erreur était attendue, mais votre fonction n'en a levé aucune.")


def expect_close(
    got: object,
    expected: torch.Tensor,
    hint: Hint,
    mistakes: Mapping[Hint, object] | None = None,
    *,
    what: str = "le résultat",
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
                detail = f"{what} : dtype attendu {_dtype(expected_part)}, obtenu {_dtype(got_part)}"
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
        raise Mistake(NOT_A_TENSOR, f"{what} : attendu un tenseur de forme {_shape(expected)}, obtenu {_kind(got)}")
    if got.shape != expected.shape:
        raise Mistake(WRONG_SHAPE, f"{what} : forme attendue {_shape(expected)}, obtenue {_shape(got)}")
    raise Mistake(hint, _difference(got, expected, what))


def _expect_same_structure(got: object, expected: tuple, what: str) -> None:
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        raise Mistake(WRONG_STRUCTURE, f"{what} : attendu {_describe(expected)}, obtenu {_describe(got)}")
    for index, (got_part, expected_part) in enumerate(zip(got, expected, strict=True)):
        where = f"{what}, élément {index}"
        if not isinstance(got_part, torch.Tensor):
            raise Mistake(NOT_A_TENSOR, f"{where} : attendu {_describe(expected_part)}, obtenu {_kind(got_part)}")
        if got_part.shape != expected_part.shape:
            raise Mistake(WRONG_SHAPE, f"{where} : forme attendue {_shape(expected_part)}, obtenue {_shape(got_part)}")


def expect_equal(
    got: object,
    expected: object,
    hint: Hint,
    mistakes: Mapping[Hint, object] | None = None,
    *,
    what: str = "le résultat",
    reveal_expected: bool = True,
) -> None:
    """``got == expected`` for plain values (numbers, tuples, strings); otherwise the likeliest hint.

    ``reveal_expected=False`` keeps the expected value out of the message, for a question with
    few possible answers (the feedback must not hand the answer out).
    """
    if _same_value(got, expected):
        return
    detail = f"{what} : attendu {expected!r}, obtenu {_short(got)}" if reveal_expected else f"{what} : {_short(got)}"
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
            raise Mistake(hint, f"attendu {type_name}, obtenu {error.info.summary()}") from None
        return
    raise Mistake(hint, f"{NOT_RAISED.text} ({type_name} attendue)")


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
                raise Mistake(hint, f"votre fonction a levé {error.info.summary()}") from error
        raise


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


def _difference(got: object, expected: torch.Tensor, what: str) -> str:
    if isinstance(expected, tuple) and isinstance(got, tuple) and len(got) == len(expected):
        for index, (got_part, expected_part) in enumerate(zip(got, expected, strict=True)):
            if not _close(got_part, expected_part, 1e-5, 1.3e-6):
                return _difference(got_part, expected_part, f"{what}, élément {index}")
    if not isinstance(got, torch.Tensor) or not isinstance(expected, torch.Tensor) or got.shape != expected.shape:
        return f"{what} : attendu {_describe(expected)}, obtenu {_describe(got)}"
    wrong = ~torch.isclose(got.double(), expected.double(), atol=1e-5, rtol=1.3e-6)
    where = tuple(int(i) for i in wrong.nonzero()[0]) if wrong.any() else ()
    lines = [f"{what} : {int(wrong.sum())} valeur(s) sur {expected.numel()} diffèrent"]
    if where:
        index = ", ".join(map(str, where))
        lines.append(f"par exemple en [{index}] : attendu {expected[where].item():.5g}, obtenu {got[where].item():.5g}")
    return "\n".join(lines)


def _describe(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_describe(v) for v in value) + ")"
    if isinstance(value, torch.Tensor):
        return f"un tenseur de forme {_shape(value)}"
    return _kind(value)


def _shape(tensor: object) -> str:
    return str(tuple(tensor.shape)) if isinstance(tensor, torch.Tensor) else _kind(tensor)


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _kind(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"un tenseur de forme {tuple(value.shape)}"
    if value is None:
        return "None (la fonction ne renvoie rien ?)"
    return f"{type(value).__name__} {_short(value)}"


def _short(value: object, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
