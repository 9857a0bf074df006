"""gru_output_shapes(...): the shapes of (out, h_n) of a batch-first nn.GRU, as tuples of ints, from the sizes alone."""

import pytest
import torch
from torch import nn

from autograder.testing import Hint, Mistake, Returns, Text, expect_equal, fr_en, remembered, shown, title

# What the function returns, as students read it.
RETURNS = Returns(
    Text(
        "un tuple de deux tuples d'entiers, (out_shape, h_n_shape)",
        "a tuple of two tuples of ints, (out_shape, h_n_shape)",
    ),
    "tuple",
)

WRONG_SHAPES = Hint(
    "gru_shapes_wrong",
    "Les formes ne correspondent pas à celles d'un nn.GRU construit avec batch_first=True : out est "
    "(N, T, D × H) et h_n (D × nombre de couches, N, H), avec D = 2 s'il est bidirectionnel, 1 sinon.",
    "The shapes do not match those of an nn.GRU built with batch_first=True: out is (N, T, D × H) and h_n (D ×"
    " number of layers, N, H), with D = 2 if it is bidirectional, 1 otherwise.",
)
OUT_NOT_DOUBLED = Hint(
    "out_features_not_doubled",
    "Pour un GRU bidirectionnel, out concatène les deux directions à chaque pas : sa dernière dimension "
    "vaut 2 × H, et non H.",
    "For a bidirectional GRU, out concatenates both directions at every step: its last dimension is 2 × H, not H.",
)
H_N_NOT_DOUBLED = Hint(
    "h_n_layers_not_doubled",
    "Pour un GRU bidirectionnel, h_n garde un état final par couche et par direction : sa première "
    "dimension vaut 2 × nombre de couches.",
    "For a bidirectional GRU, h_n keeps one final state per layer and per direction: its first dimension is 2 "
    "× number of layers.",
)
BIDIRECTIONAL_IGNORED = Hint(
    "bidirectional_ignored",
    "Vous ne tenez pas compte de bidirectional : avec deux directions, out a 2 × H composantes par pas "
    "et h_n contient 2 × nombre de couches états finaux.",
    "You do not take bidirectional into account: with two directions, out has 2 × H features per step and h_n "
    "holds 2 × number of layers final states.",
)
H_N_BATCH_FIRST = Hint(
    "h_n_batch_first",
    "batch_first=True ne concerne que les entrées et out : h_n garde la forme (D × nombre de couches, N, H), "
    "avec le batch en deuxième position.",
    "batch_first=True only concerns the inputs and out: h_n keeps the shape (D × number of layers, N, H), with"
    " the batch in second position.",
)
OUT_TIME_FIRST = Hint(
    "out_time_first",
    "Le GRU est construit avec batch_first=True : out a la forme (N, T, D × H), le batch d'abord, "
    "et non (T, N, D × H).",
    "The GRU is built with batch_first=True: out has shape (N, T, D × H), batch first, not (T, N, D × H).",
)
H_N_IGNORES_LAYERS = Hint(
    "h_n_ignores_layers",
    "h_n garde l'état final de chaque couche empilée : sa première dimension vaut D × nombre de couches, "
    "pas seulement D.",
    "h_n keeps the final state of every stacked layer: its first dimension is D × number of layers, not just D.",
)
SHAPES_AS_LISTS = Hint(
    "shapes_as_lists",
    "Les valeurs sont justes, mais renvoyez des tuples d'entiers, par exemple (N, T, H), et non des listes : "
    "le résultat est le couple (forme de out, forme de h_n).",
    "The values are right, but return tuples of ints, for example (N, T, H), not lists: the result is the pair"
    " (shape of out, shape of h_n).",
)

SHAPES_NOT_INTS = Hint(
    "shapes_not_ints",
    "Les valeurs sont justes, mais chaque dimension d'une forme doit être un entier (int) : ni un float (la "
    "division / en donne un : utilisez // ou int(...)), ni un booléen, ni un tenseur.",
    "The values are right, but each dimension of a shape must be an int: neither a float (the division / gives "
    "one: use // or int(...)), nor a bool, nor a tensor.",
)


def _sizes(seed):
    """N, T, E, H drawn so that every typical mistake gives a different answer (N > 2 × layers, N != T)."""
    gen = torch.Generator().manual_seed(seed)
    n = int(torch.randint(7, 10, (1,), generator=gen))
    t = int(torch.randint(2, 6, (1,), generator=gen))
    e = int(torch.randint(2, 12, (1,), generator=gen))
    h = int(torch.randint(10, 16, (1,), generator=gen))
    return n, t, e, h


@remembered
def _real_shapes(n, t, e, h, layers, bidirectional):
    """What PyTorch itself gives: build the GRU and run it."""
    gru = nn.GRU(e, h, num_layers=layers, batch_first=True, bidirectional=bidirectional)
    with torch.no_grad():
        out, h_n = gru(torch.zeros(n, t, e))
    return tuple(out.shape), tuple(h_n.shape)


def _tupled(value):
    if isinstance(value, (list, tuple)):
        return tuple(_tupled(item) for item in value)
    return value


def _has_list(value):
    if isinstance(value, list):
        return True
    return isinstance(value, tuple) and any(_has_list(item) for item in value)


def _mistakes(got, n, t, h, layers, bidirectional):
    d = 2 if bidirectional else 1
    mistakes = {
        BIDIRECTIONAL_IGNORED: ((n, t, h), (layers, n, h)),
        OUT_NOT_DOUBLED: ((n, t, h), (d * layers, n, h)),
        H_N_NOT_DOUBLED: ((n, t, d * h), (layers, n, h)),
        H_N_BATCH_FIRST: ((n, t, d * h), (n, d * layers, h)),
        OUT_TIME_FIRST: ((t, n, d * h), (d * layers, n, h)),
        H_N_IGNORES_LAYERS: ((n, t, d * h), (d, n, h)),
    }
    expected = ((n, t, d * h), (d * layers, n, h))
    if _has_list(got) and _tupled(got) == expected:
        mistakes[SHAPES_AS_LISTS] = got
    return mistakes


def _number(value):
    """A dimension as a number, whatever its type (1.0, True, tensor(3)), or None if it is not one."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.dim() == 0 and not value.is_complex() else None
    return value if isinstance(value, (int, float)) else None


def _not_an_int(got, expected):
    """The first dimension that is not an int (a float, a bool, a tensor) when the shapes are right as numbers:
    the contract's shapes are tuples of ints."""
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        return None
    dims: list[object] = []
    for shape, expected_shape in zip(got, expected, strict=True):
        if not isinstance(shape, (tuple, list)) or len(shape) != len(expected_shape):
            return None
        if any(_number(dim) != e for dim, e in zip(shape, expected_shape, strict=True)):
            return None
        dims += shape
    return next((dim for dim in dims if type(dim) is not int), None)


def _check(got, n, t, e, h, layers, bidirectional):
    expected = _real_shapes(n, t, e, h, layers, bidirectional)
    dim = _not_an_int(got, expected)
    if dim is not None:
        raise Mistake(
            SHAPES_NOT_INTS,
            fr_en(
                "(out, h_n) : {g} ; {d} est de type {t}",
                "(out, h_n): {g}; {d} is of type {t}",
                g=shown(got),
                d=shown(dim),
                t=type(dim).__name__,
            ),
        )
    expect_equal(got, expected, WRONG_SHAPES, _mistakes(got, n, t, h, layers, bidirectional), what="(out, h_n)")


@pytest.mark.parametrize(
    ("seed", "layers", "bidirectional"),
    [(0, 1, False), (1, 1, True), (2, 2, False), (3, 2, True), (4, 3, True), (5, 3, False)],
)
@title(
    "Les formes de (out, h_n) sont celles d'un vrai nn.GRU à {layers}, {bidirectional}.",
    "The shapes of (out, h_n) are those of a real nn.GRU with {layers}, {bidirectional}.",
    layers={1: ("une couche", "one layer"), 2: ("deux couches", "two layers"), 3: ("trois couches", "three layers")},
    bidirectional={True: ("bidirectionnel", "bidirectional"), False: ("dans une seule direction", "in one direction")},
)
def test_shapes_match_a_real_gru(student, seed, layers, bidirectional):
    n, t, e, h = _sizes(seed)
    got = student.gru_output_shapes(n, t, e, h, num_layers=layers, bidirectional=bidirectional)
    _check(got, n, t, e, h, layers, bidirectional)


@title(
    "Sans num_layers ni bidirectional : un GRU à une couche, dans une seule direction.",
    "Without num_layers or bidirectional: a one-layer GRU, in one direction.",
)
def test_default_arguments(student):
    n, t, e, h = _sizes(6)
    got = student.gru_output_shapes(n, t, e, h)
    _check(got, n, t, e, h, 1, False)


@title(
    "Une seule séquence d'un seul pas (N = 1, T = 1), GRU bidirectionnel à deux couches.",
    "A single sequence of a single step (N = 1, T = 1), bidirectional GRU with two layers.",
)
def test_single_sequence_single_step(student):
    got = student.gru_output_shapes(1, 1, 5, 12, num_layers=2, bidirectional=True)
    _check(got, 1, 1, 5, 12, 2, True)
