"""gather_last_relevant_hidden(hiddens, x_lengths): row b is hiddens[b, x_lengths[b] - 1], ValueError on bad lengths."""

import functools

import pytest
import torch

from autograder.testing import (
    Hint,
    Mistake,
    Returns,
    StudentError,
    Text,
    expect_close,
    expect_raises,
    fr_en,
    hints_for_errors,
    raised,
    title,
)

# What the function returns, as students read it.
RETURNS = Returns(Text("un tenseur PyTorch de forme (N, H)", "a PyTorch tensor of shape (N, H)"), "tensor")

WRONG_VALUES = Hint(
    "gather_wrong_values",
    "La ligne b du résultat doit être hiddens[b, x_lengths[b] - 1], l'état au dernier pas réel de la séquence b.",
    "Row b of the result must be hiddens[b, x_lengths[b] - 1], the state at the last real step of sequence b.",
)
OFF_BY_ONE = Hint(
    "gather_off_by_one",
    "Décalage d'indice : une séquence de longueur L a ses états aux pas 0, ..., L - 1 ; "
    "son dernier état réel est hiddens[b, L - 1], pas hiddens[b, L].",
    "Off by one: a sequence of length L has its states at steps 0, ..., L - 1; its last real state is "
    "hiddens[b, L - 1], not hiddens[b, L].",
)
READS_PADDING = Hint(
    "gather_reads_padding",
    "Vous prenez le dernier pas hiddens[:, -1] pour toutes les séquences : pour les plus courtes, "
    "c'est un état calculé sur le remplissage. Prenez le pas x_lengths[b] - 1 de chaque séquence.",
    "You take the last step hiddens[:, -1] for every sequence: for the shorter ones, that state was computed "
    "on padding. Take step x_lengths[b] - 1 of each sequence.",
)
KEPT_TIME_AXIS = Hint(
    "gather_kept_time_axis",
    "Le résultat garde l'axe du temps, forme (N, 1, H) : il doit être (N, H) (retirez l'axe, par exemple squeeze(1)).",
    "The result keeps the time axis, shape (N, 1, H): it must be (N, H) (remove the axis, for example with "
    "squeeze(1)).",
)
ALL_ROWS = Hint(
    "gather_all_rows",
    "hiddens[:, x_lengths - 1] prend, pour chaque séquence, les pas de toutes les longueurs : forme (N, N, H). "
    "Indexez les lignes et les pas ensemble : hiddens[torch.arange(N), x_lengths - 1].",
    "hiddens[:, x_lengths - 1] takes, for every sequence, the steps of all the lengths: shape (N, N, H). Index"
    " rows and steps together: hiddens[torch.arange(N), x_lengths - 1].",
)
LENGTHS_AS_LIST = Hint(
    "gather_lengths_as_list",
    "x_lengths peut être une liste d'entiers : convertissez-la d'abord en tenseur (torch.as_tensor(x_lengths)) "
    "avant de calculer avec.",
    "x_lengths may be a list of ints: convert it to a tensor first (torch.as_tensor(x_lengths)) before "
    "computing with it.",
)
OUT_OF_RANGE = Hint(
    "length_out_of_range_accepted",
    "Une longueur doit être comprise entre 1 et T : pour une longueur < 1 ou > T, levez une ValueError "
    "(raise ValueError(...)) au lieu de renvoyer un résultat ou de laisser passer une autre erreur.",
    "A length must be between 1 and T: for a length < 1 or > T, raise a ValueError (raise ValueError(...)) "
    "instead of returning a result or letting another error through.",
)
WRONG_COUNT = Hint(
    "wrong_number_of_lengths_accepted",
    "Il faut exactement une longueur par séquence (N longueurs) : sinon, levez une ValueError.",
    "There must be exactly one length per sequence (N lengths): otherwise, raise a ValueError.",
)


VALID_LENGTHS_REFUSED = Hint(
    "valid_lengths_refused",
    "Pour des longueurs valides (entre 1 et T, une par séquence), votre fonction doit renvoyer un tenseur : "
    "seules les longueurs invalides lèvent une ValueError.",
    "For valid lengths (between 1 and T, one per sequence), your function must return a tensor: only invalid "
    "lengths raise a ValueError.",
)


def _hiddens(seed, n, t, h):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, t, h, generator=gen)


def _as_kind(lengths, kind):
    if kind == "list":
        return list(lengths)
    return torch.tensor(lengths, dtype=torch.int32 if kind == "int32" else torch.int64)


def _expected(hiddens, lengths):
    return torch.stack([hiddens[b, length - 1] for b, length in enumerate(lengths)])


def _mistakes(hiddens, lengths):
    n, t = hiddens.shape[0], hiddens.shape[1]
    expected = _expected(hiddens, lengths)
    index = torch.tensor(lengths)
    return {
        READS_PADDING: hiddens[:, -1],
        OFF_BY_ONE: torch.stack([hiddens[b, length] for b, length in enumerate(lengths)]) if max(lengths) < t else None,
        KEPT_TIME_AXIS: expected.unsqueeze(1),
        ALL_ROWS: hiddens[:, index - 1] if n > 1 else None,
    }


def _gather(student, hiddens, lengths, kind):
    hints = {"IndexError": OFF_BY_ONE}
    if kind == "list":
        hints |= {"TypeError": LENGTHS_AS_LIST, "AttributeError": LENGTHS_AS_LIST}
    with hints_for_errors(hints):
        return student.gather_last_relevant_hidden(hiddens, _as_kind(lengths, kind))


def _lengths_text(lengths):
    return fr_en("longueurs {x}", "lengths {x}", x=lengths)


def _check(student, hiddens, lengths, kind):
    got = _gather(student, hiddens, lengths, kind)
    expect_close(
        got, _expected(hiddens, lengths), WRONG_VALUES, _mistakes(hiddens, lengths), what=_lengths_text(lengths)
    )


@pytest.mark.parametrize(
    ("seed", "kind", "t", "lengths"),
    [(0, "list", 6, [4, 1, 6, 2, 5]), (1, "int64", 7, [3, 7, 5, 1]), (2, "int32", 5, [2, 5, 1, 4, 3, 5])],
)
@title(
    "Longueurs {lengths} dans le désordre, {kind}, T = {t} : ligne b = hiddens[b, x_lengths[b] - 1].",
    "Unsorted lengths {lengths}, {kind}, T = {t}: row b = hiddens[b, x_lengths[b] - 1].",
    kind={
        "list": ("en liste", "as a list"),
        "int64": ("en tenseur int64", "as an int64 tensor"),
        "int32": ("en tenseur int32", "as an int32 tensor"),
    },
)
def test_unsorted_lengths(student, seed, kind, t, lengths):
    _check(student, _hiddens(seed, len(lengths), t, 3), lengths, kind)


@pytest.mark.parametrize(("seed", "kind", "lengths"), [(3, "list", [5, 5, 5]), (4, "int64", [1, 1, 1, 1])])
@title(
    "{seed} : ligne b = hiddens[b, x_lengths[b] - 1].",
    "{seed}: row b = hiddens[b, x_lengths[b] - 1].",
    seed={
        3: (
            "Toutes les longueurs égales à T = 5 (aucun remplissage), en liste",
            "Every length equal to T = 5 (no padding), as a list",
        ),
        4: (
            "Toutes les longueurs égales à 1 (seul le premier pas compte), en tenseur int64",
            "Every length equal to 1 (only the first step counts), as an int64 tensor",
        ),
    },
)
def test_extreme_lengths(student, seed, kind, lengths):
    _check(student, _hiddens(seed, len(lengths), 5, 4), lengths, kind)


@title(
    "Un batch d'une seule séquence (N = 1) : le résultat a la forme (1, H).",
    "A batch of a single sequence (N = 1): the result has shape (1, H).",
)
def test_single_sequence(student):
    _check(student, _hiddens(5, 1, 6, 3), [4], "list")


@functools.cache
def _large_batch():
    """100 000 seeded sequences and their last states, drawn once per process (5 ms each time): the same
    values for every student, never changed (what the student's function gets is a copy)."""
    n, t, h = 100_000, 4, 2
    gen = torch.Generator().manual_seed(6)
    hiddens = torch.randn(n, t, h, generator=gen)
    lengths = torch.randint(1, t + 1, (n,), generator=gen)
    expected = hiddens.gather(1, (lengths - 1).view(n, 1, 1).expand(n, 1, h)).squeeze(1)
    return n, hiddens, lengths, expected


@title(
    "Un grand batch de N = 100\u202f000 séquences : le résultat reste juste.",
    "A large batch of N = 100,000 sequences: the result stays right.",
)
def test_large_batch(student):
    n, hiddens, lengths, expected = _large_batch()
    with hints_for_errors({"IndexError": OFF_BY_ONE}):
        got = student.gather_last_relevant_hidden(hiddens, lengths)
    mistakes = {READS_PADDING: hiddens[:, -1], KEPT_TIME_AXIS: expected.unsqueeze(1)}
    expect_close(got, expected, WRONG_VALUES, mistakes, what=fr_en("{n} séquences", "{n} sequences", n=n))


def _expect_accepted(student, hiddens, lengths):
    """Valid lengths are not refused: no ValueError, and a tensor, right or wrong (the other tests judge its
    values). Another error is not a refusal but a slip in the computation (an index one step too far raises
    IndexError): the tests of the values name it, and this one judges the ValueErrors."""
    try:
        got = student.gather_last_relevant_hidden(hiddens, lengths)
    except StudentError as error:
        if error.is_a("NotImplementedError"):
            raise
        if not error.is_a("ValueError"):
            return
        raise Mistake(
            VALID_LENGTHS_REFUSED, fr_en("{w} : {e}", "{w}: {e}", w=_lengths_text(_listed(lengths)), e=raised(error))
        ) from None
    if not isinstance(got, torch.Tensor):
        raise Mistake(
            VALID_LENGTHS_REFUSED,
            fr_en(
                "{w} : attendu un tenseur, obtenu {t}",
                "{w}: expected a tensor, got {t}",
                w=_lengths_text(_listed(lengths)),
                t=type(got).__name__,
            ),
        )


def _listed(lengths):
    return lengths.tolist() if isinstance(lengths, torch.Tensor) else lengths


def _expect_value_error(student, hiddens, lengths, hint, case):
    try:
        with expect_raises("ValueError", hint):
            student.gather_last_relevant_hidden(hiddens, lengths)
    except Mistake as mistake:
        raise Mistake(
            mistake.hint,
            fr_en(
                "{c} (T = {t}, N = {n}) : {d}",
                "{c} (T = {t}, N = {n}): {d}",
                c=case,
                t=hiddens.shape[1],
                n=hiddens.shape[0],
                d=mistake.detail,
            ),
        ) from None


@title(
    "Une longueur 0, négative ou supérieure à T lève une ValueError (et des longueurs valides n'en lèvent pas).",
    "A length of 0, a negative one or one greater than T raises a ValueError (and valid lengths raise none).",
)
def test_rejects_lengths_out_of_range(student):
    hiddens = _hiddens(7, 4, 5, 3)
    _expect_accepted(student, hiddens, [3, 1, 5, 2])  # a function that always raises earns nothing here
    _expect_value_error(student, hiddens, [3, 0, 5, 2], OUT_OF_RANGE, fr_en("une longueur vaut 0", "a length is 0"))
    _expect_value_error(
        student,
        hiddens,
        torch.tensor([3, 1, -2, 2]),
        OUT_OF_RANGE,
        fr_en("une longueur est négative", "a length is negative"),
    )
    _expect_value_error(
        student, hiddens, [3, 6, 5, 2], OUT_OF_RANGE, fr_en("une longueur vaut T + 1", "a length is T + 1")
    )


@title(
    "Donner moins ou plus de longueurs que de séquences lève une ValueError (et N longueurs n'en lèvent pas).",
    "Giving fewer or more lengths than sequences raises a ValueError (and N lengths raise none).",
)
def test_rejects_wrong_number_of_lengths(student):
    hiddens = _hiddens(8, 4, 5, 3)
    _expect_accepted(student, hiddens, torch.tensor([3, 1, 5, 2]))  # one that always raises earns nothing
    _expect_value_error(
        student, hiddens, [3, 1, 5], WRONG_COUNT, fr_en("3 longueurs pour 4 séquences", "3 lengths for 4 sequences")
    )
    _expect_value_error(
        student,
        hiddens,
        torch.tensor([3, 1, 5, 2, 4]),
        WRONG_COUNT,
        fr_en("5 longueurs pour 4 séquences", "5 lengths for 4 sequences"),
    )
