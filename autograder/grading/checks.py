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
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import cast

import torch

from autograder.grading.student import CallResult, StudentError
from autograder.language import Text, english, fr_en, french_spacing

__all__ = [
    "Hint",
    "Mistake",
    "Title",
    "expect_answered",
    "expect_close",
    "expect_equal",
    "expect_raises",
    "hints_for_errors",
    "raised",
    "shown",
    "title",
]


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


@dataclass(frozen=True)
class Title:
    """A hidden test's title as students read it: a sentence in French and in English. Its ``{fields}`` take
    the test's parameters of those names, so that each case of a parametrized test reads as a sentence of its
    own; ``words`` turns a parameter's value into words (``{"as_tensor": {True: ("en tenseur", "as a
    tensor"), ...}}``), other values are written as Python writes them."""

    fr: str
    en: str
    words: Mapping[str, Mapping[object, tuple[str, str]]]

    def render(self, params: Mapping[str, object]) -> Text:
        fr = {name: self._word(name, value, 0) for name, value in params.items()}
        en = {name: self._word(name, value, 1) for name, value in params.items()}
        return Text(french_spacing(self.fr.format(**fr)), self.en.format(**en))

    def _word(self, name: str, value: object, language: int) -> object:
        words = self.words.get(name)
        try:
            return words[value][language] if words is not None and value in words else value
        except TypeError:  # a value that cannot be a key (a list): written as Python writes it
            return value


def title(fr: str, en: str, **words: Mapping[object, tuple[str, str]]) -> Callable:
    """Give a hidden test its title (see :class:`Title`); the runner shows it instead of the docstring."""

    def give(test: Callable) -> Callable:
        test.title = Title(fr, en, words)  # type: ignore[attr-defined]  # a function's attribute: the runner reads it
        return test

    return give


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
    expected: torch.Tensor | tuple[torch.Tensor, ...],
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
    if _close(got, expected, atol, rtol):  # so got is a tensor, or a tuple of them, as expected is
        if isinstance(expected, tuple):
            pairs = list(zip(cast(tuple, got), expected, strict=True))
        else:
            pairs = [(cast(torch.Tensor, got), expected)]
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
        _expect_same_structure(got, expected, what)  # so got is a tuple or a list
        raise Mistake(hint, _difference(tuple(cast("tuple | list", got)), expected, what))
    if not isinstance(got, torch.Tensor):
        raise Mistake(_not_a_tensor(got), _expected_got(what, _describe(expected), _describe(got)))
    if got.shape != expected.shape:
        raise Mistake(_wrong_shape(got, expected), _shapes(what, _shape(expected), _shape(got)))
    raise Mistake(hint, _difference(got, expected, what))


def expect_answered(
    call: CallResult,
    expected: torch.Tensor | tuple[torch.Tensor, ...],
    hint: Hint,
    mistakes: Mapping[Hint, object] | None = None,
    *,
    what: str = THE_RESULT,
) -> None:
    """For a test of a property of the call (its arguments left alone, no .grad filled): the function
    answered, so the property can be judged. An answer is a result of the kind asked (a tensor, or a tuple of
    tensors, of the expected shapes: its values are the other tests' business), or a result that could not be
    read (the arguments came back all the same), unless it is a generator's, whose body never ran. Anything
    else fails as the value tests fail (``expect_close``'s hint for its type or shape). The test is marked as
    a property test (:func:`took_property_test`): its points count only beside a right value."""
    _property_test["seen"] = True
    if call.refused is not None:
        if call.refused.generator:
            raise call.refused
        return
    if not _same_form(call.value, expected):
        expect_close(call.value, expected, hint, mistakes, what=what)


_property_test = {"seen": False}


def took_property_test() -> bool:
    """Whether the test that just ran judged a property (it called :func:`expect_answered`); resets."""
    seen, _property_test["seen"] = _property_test["seen"], False
    return seen


def _same_form(got: object, expected: object) -> bool:
    if isinstance(expected, tuple):
        return (
            isinstance(got, tuple)
            and len(got) == len(expected)
            and all(_same_form(g, e) for g, e in zip(got, expected, strict=True))
        )
    return isinstance(got, torch.Tensor) and isinstance(expected, torch.Tensor) and got.shape == expected.shape


TUPLE_NOT_TENSOR = Hint(
    "tuple_instead_of_tensor",
    "Vous renvoyez un tuple au lieu d'un seul tenseur\xa0: gardez seulement le tenseur demandé. "
    "(Un module récurrent renvoie un tuple (out, h_n), et un nn.LSTM son état final comme un tuple (h_n, c_n).)",
    "You return a tuple instead of a single tensor: keep only the tensor asked for. (A recurrent module "
    "returns a tuple (out, h_n), and an nn.LSTM its final state as a tuple (h_n, c_n).)",
)
LIST_NOT_TENSOR = Hint(
    "list_instead_of_tensor",
    "Vous renvoyez une liste au lieu d'un tenseur\xa0: assemblez ses éléments en un seul tenseur, "
    "par exemple avec torch.stack(...) (un nouvel axe) ou torch.cat(...) (le long d'un axe existant).",
    "You return a list instead of a tensor: put its items together into one tensor, for example with "
    "torch.stack(...) (a new axis) or torch.cat(...) (along an existing axis).",
)
NUMBER_NOT_TENSOR = Hint(
    "number_instead_of_tensor",
    "Vous renvoyez un nombre au lieu d'un tenseur\xa0: sans .item(), float(...) ni .sum() sur tout le résultat, "
    "gardez le tenseur avec tous ses éléments.",
    "You return a number instead of a tensor: without .item(), float(...) or a .sum() over the whole result, "
    "keep the tensor with all its items.",
)
NOTHING_RETURNED = Hint(
    "nothing_returned",
    "Votre fonction ne renvoie rien (None)\xa0: il manque un return à la fin, ou il est dans une branche qui n'est "
    "jamais prise.",
    "Your function returns nothing (None): a return is missing at its end, or it sits in a branch that is never taken.",
)
EXTRA_AXIS = Hint(
    "extra_axis_of_size_1",
    "Le résultat a un axe de taille 1 en trop\xa0: retirez-le (squeeze(dim) ou [0] sur cet axe).",
    "The result has an extra axis of size 1: remove it (squeeze(dim), or [0] on that axis).",
)
MISSING_AXIS = Hint(
    "missing_axis_of_size_1",
    "Il manque au résultat un axe de taille 1\xa0: un squeeze() de trop, ou un indice [0] qui l'a retiré\xa0? "
    "Ajoutez-le avec unsqueeze(dim).",
    "The result lacks an axis of size 1: one squeeze() too many, or an index [0] that removed it? Add it "
    "back with unsqueeze(dim).",
)
AXES_ORDER = Hint(
    "axes_in_wrong_order",
    "Le résultat a les bonnes tailles d'axes, mais dans un autre ordre\xa0: une transposition (.T, transpose, "
    "permute) en trop ou en moins\xa0? (Avec batch_first=True, l'axe du batch vient en premier.)",
    "The result has the right axis sizes, but in another order: one transposition (.T, transpose, permute) "
    "too many or too few? (With batch_first=True, the batch axis comes first.)",
)
LEADING_AXIS = Hint(
    "extra_leading_axis",
    "Le résultat a un axe en trop devant\xa0: vous renvoyez toute une pile (toutes les couches, ou tous les pas) "
    "au lieu d'un seul de ses éléments\xa0; le dernier est [-1].",
    "The result has an extra axis in front: you return a whole stack (every layer, or every step) instead of "
    "one of its items; the last one is [-1].",
)
SAME_SIZE_WRONG_SHAPE = Hint(
    "reshaped_wrongly",
    "Le résultat a le bon nombre d'éléments mais pas la bonne forme\xa0: un view ou un reshape vers la "
    "mauvaise forme\xa0?",
    "The result has the right number of items but not the right shape: a view or reshape to the wrong shape?",
)


def _not_a_tensor(got: object) -> Hint:
    """The likely cause when a tensor was asked for and something else came back."""
    if got is None:
        return NOTHING_RETURNED
    if isinstance(got, tuple) and got:
        return TUPLE_NOT_TENSOR
    if isinstance(got, list) and got:
        return LIST_NOT_TENSOR
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        return NUMBER_NOT_TENSOR
    return NOT_A_TENSOR


def _wrong_shape(got: torch.Tensor, expected: torch.Tensor) -> Hint:
    """The likely cause of a tensor of the wrong shape, read from the two shapes."""
    have, want = tuple(got.shape), tuple(expected.shape)
    if len(have) == len(want) + 1:
        for axis in range(len(have)):
            if have[axis] == 1 and have[:axis] + have[axis + 1 :] == want:
                return EXTRA_AXIS
        if have[1:] == want:
            return LEADING_AXIS
    if len(have) + 1 == len(want):
        for axis in range(len(want)):
            if want[axis] == 1 and want[:axis] + want[axis + 1 :] == have:
                return MISSING_AXIS
    if len(have) == len(want) and sorted(have) == sorted(want):
        return AXES_ORDER
    if got.numel() == expected.numel():
        return SAME_SIZE_WRONG_SHAPE
    return WRONG_SHAPE


def _expect_same_structure(got: object, expected: tuple, what: str) -> None:
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        raise Mistake(WRONG_STRUCTURE, _expected_got(what, _describe(expected), _describe(got)))
    for index, (got_part, expected_part) in enumerate(zip(got, expected, strict=True)):
        where = _element(what, index)
        if not isinstance(got_part, torch.Tensor):
            raise Mistake(_not_a_tensor(got_part), _expected_got(where, _describe(expected_part), _describe(got_part)))
        if got_part.shape != expected_part.shape:
            raise Mistake(
                _wrong_shape(got_part, expected_part), _shapes(where, _shape(expected_part), _shape(got_part))
            )


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
        _expected_got(what, shown(expected), shown(got))
        if reveal_expected
        else fr_en("{what} : {got}", "{what}: {got}", what=what, got=shown(got))
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
    # Equal values are close (NaN is equal to nothing, as allclose has it), and torch.equal is far cheaper
    # than allclose on float64 copies (docs/performance.md).
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


def _difference(got: object, expected: torch.Tensor | tuple[torch.Tensor, ...], what: str) -> Text:
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


# A description's budget, whatever the value: it looks at no more than ITEMS_SHOWN of its elements (all
# nesting levels together, at most ITEMS_PER_CONTAINER of one list, tuple or dict, DEPTH_SHOWN levels
# deep), shows no more than CHARS_PER_ATOM characters of one string or number, and is cut at CHARS_SHOWN
# characters. A tensor is described by its shape (and a single number by its value), never printed.
ITEMS_SHOWN = 12
ITEMS_PER_CONTAINER = 4
DEPTH_SHOWN = 3
CHARS_PER_ATOM = 40
CHARS_SHOWN = 240


def shown(value: object) -> Text:
    """``value`` as a message shows it, in Python's notation where it has one: ``[1.5, 'a', …] (300000
    éléments)``, ``<tenseur de forme (3, 4)>``. Never the repr of the whole value: its cost is bounded
    whatever the value (see ``ITEMS_SHOWN``)."""
    fr, en = _literal(value, [ITEMS_SHOWN], 0)
    return Text(_cut(fr), _cut(en))


def _literal(value: object, room: list[int], depth: int) -> tuple[str, str]:
    """Both languages of ``value``'s bounded notation; ``room[0]`` is what is left of the element budget."""
    if value is None or isinstance(value, bool):
        return repr(value), repr(value)
    if isinstance(value, int):
        if value.bit_length() <= 128:
            return int.__repr__(value), int.__repr__(value)
        digits = int(value.bit_length() * 0.30103) + 1  # str() of a large int is slow, or refused past 4300 digits
        return f"<entier d'environ {digits} chiffres>", f"<integer of about {digits} digits>"
    if isinstance(value, float):
        return float.__repr__(value), float.__repr__(value)
    if isinstance(value, str):
        if len(value) <= CHARS_PER_ATOM:
            return str.__repr__(value), str.__repr__(value)
        start = str.__repr__(value[:CHARS_PER_ATOM])
        return f"{start}… ({len(value)} caractères)", f"{start}… ({len(value)} characters)"
    if isinstance(value, torch.Tensor):
        if value.dim() == 0 and not value.is_complex() and value.device.type == "cpu":
            number, _ = _literal(value.item(), room, depth)
            return f"tensor({number})", f"tensor({number})"
        shape = tuple(value.shape)
        return f"<tenseur de forme {shape}>", f"<tensor of shape {shape}>"
    if isinstance(value, (list, tuple, dict)):
        return _container(value, room, depth)
    return f"<{type(value).__name__}>", f"<{type(value).__name__}>"


def _container(value: list | tuple | dict, room: list[int], depth: int) -> tuple[str, str]:
    brackets = "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else "()"
    size = len(value)
    fr_items, en_items = [], []
    if depth < DEPTH_SHOWN:
        elements = iter(value.items() if isinstance(value, dict) else value)
        for element in itertools.islice(elements, ITEMS_PER_CONTAINER):
            if room[0] <= 0:
                break
            room[0] -= 1
            if isinstance(value, dict):
                key, item = element
                key_fr, key_en = _literal(key, room, depth + 1)
                item_fr, item_en = _literal(item, room, depth + 1)
                fr_items.append(f"{key_fr}: {item_fr}")
                en_items.append(f"{key_en}: {item_en}")
            else:
                item_fr, item_en = _literal(element, room, depth + 1)
                fr_items.append(item_fr)
                en_items.append(item_en)
    cut = len(fr_items) < size
    tail = ", …" if cut and fr_items else "…" if cut else "," if brackets == "()" and size == 1 else ""
    fr = f"{brackets[0]}{', '.join(fr_items)}{tail}{brackets[1]}"
    en = f"{brackets[0]}{', '.join(en_items)}{tail}{brackets[1]}"
    if type(value) is torch.Size:
        fr, en = f"torch.Size([{fr[1:-1]}])", f"torch.Size([{en[1:-1]}])"
    elif type(value) not in (list, tuple, dict):
        fr, en = f"{type(value).__name__}{fr}", f"{type(value).__name__}{en}"
    if cut:
        return f"{fr} ({size} éléments)", f"{en} ({size} items)"
    return fr, en


def _cut(text: str) -> str:
    return text if len(text) <= CHARS_SHOWN else text[: CHARS_SHOWN - 1] + "…"


def _describe(value: object) -> Text:
    """What came back (or was expected), for "expected ..., got ...": a tensor by its shape, a tuple part by
    part, anything else by its type and bounded notation."""
    if (
        type(value) is tuple
        and 0 < len(value) <= ITEMS_PER_CONTAINER
        and all(isinstance(part, torch.Tensor) for part in value)
    ):
        parts = [_kind(part) for part in value]
        return Text("(" + ", ".join(parts) + ")", "(" + ", ".join(english(p) for p in parts) + ")")
    return _kind(value)


def _shape(tensor: object) -> str:
    return str(tuple(tensor.shape)) if isinstance(tensor, torch.Tensor) else _kind(tensor)


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _kind(value: object) -> Text:
    if isinstance(value, torch.Tensor):
        return fr_en("un tenseur de forme {s}", "a tensor of shape {s}", s=tuple(value.shape))
    if value is None:
        return Text("None (la fonction ne renvoie rien ?)", "None (does the function return nothing?)")
    text = shown(value)
    if type(value) in (list, tuple, dict, str, int, float, bool):
        return Text(f"{type(value).__name__} {text}", f"{type(value).__name__} {text.en}")
    return text
