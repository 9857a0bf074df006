"""count_recurrent_parameters(kind, ...): the number of parameters of nn.RNN / nn.GRU / nn.LSTM, by formula."""

import pytest
import torch
from torch import nn

from autograder.testing import (
    Hint,
    Mistake,
    Returns,
    StudentError,
    Text,
    expect_equal,
    expect_raises,
    fr_en,
    raised,
    remembered,
    shown,
    title,
)

# What the function returns, as students read it.
RETURNS = Returns(Text("un entier Python (int)", "a Python integer (int)"), "int")

WRONG_COUNT = Hint(
    "parameter_count_wrong",
    "Le nombre ne correspond pas au module PyTorch : par couche et par direction, chaque bloc a une matrice "
    "H × (taille de l'entrée de la couche), une matrice H × H et deux biais de taille H.",
    "The number does not match the PyTorch module: per layer and per direction, each block has an H × (the "
    "layer's input size) matrix, an H × H matrix and two biases of size H.",
)
ONE_BIAS = Hint(
    "one_bias_per_block",
    "PyTorch met deux vecteurs de biais par bloc (bias_ih et bias_hh) : comptez 2 × H biais par bloc, et non H.",
    "PyTorch puts two bias vectors in each block (bias_ih and bias_hh): count 2 × H biases per block, not H.",
)
INPUT_SIZE_EVERY_LAYER = Hint(
    "input_size_every_layer",
    "Seule la première couche reçoit les entrées de taille E : une couche suivante reçoit la sortie de la "
    "précédente, de taille H (ou 2 × H si le réseau est bidirectionnel).",
    "Only the first layer receives inputs of size E: a later layer receives the previous layer's output, of "
    "size H (or 2 × H if the network is bidirectional).",
)
DEEPER_LAYERS_TAKE_2H = Hint(
    "deeper_layers_take_2h",
    "Dans un réseau bidirectionnel, une couche au-dessus de la première reçoit les deux directions concaténées : "
    "son entrée est de taille 2 × H, et non H.",
    "In a bidirectional network, a layer above the first receives both directions concatenated: its input has "
    "size 2 × H, not H.",
)
BIDIRECTIONAL_NOT_DOUBLED = Hint(
    "bidirectional_not_doubled",
    "Un réseau bidirectionnel a, à chaque couche, deux jeux de poids indépendants, un par direction : "
    "comptez les deux.",
    "A bidirectional network has, at every layer, two independent sets of weights, one per direction: count both.",
)
WRONG_BLOCKS = Hint(
    "wrong_block_count",
    "Nombre de blocs par couche et par direction : 1 pour un RNN, 3 pour un GRU (porte de réinitialisation, "
    "porte de mise à jour, candidat), 4 pour un LSTM (portes d'entrée, d'oubli et de sortie, candidat).",
    "Number of blocks per layer and per direction: 1 for an RNN, 3 for a GRU (reset gate, update gate, "
    "candidate), 4 for an LSTM (input, forget and output gates, candidate).",
)
UNKNOWN_KIND = Hint(
    "unknown_kind_no_value_error",
    'Pour un kind autre que "rnn", "gru" ou "lstm", votre fonction doit lever une ValueError '
    "(raise ValueError(...)) : ni renvoyer un nombre, ni laisser passer une autre erreur (KeyError...).",
    'For a kind other than "rnn", "gru" or "lstm", your function must raise a ValueError (raise '
    "ValueError(...)): neither return a number nor let another error through (KeyError...).",
)
KIND_NOT_EXACT = Hint(
    "kind_not_exact",
    'kind doit valoir exactement "rnn", "gru" ou "lstm" : "RNN" en majuscules doit lever une ValueError '
    "(ne convertissez pas kind en minuscules).",
    'kind must be exactly "rnn", "gru" or "lstm": "RNN" in capitals must raise a ValueError (do not convert '
    "kind to lower case).",
)

VALID_KIND_REFUSED = Hint(
    "valid_kind_refused",
    'Pour un kind valide ("rnn", "gru" ou "lstm"), votre fonction doit renvoyer un nombre : '
    "seuls les autres kinds lèvent une ValueError.",
    'For a valid kind ("rnn", "gru" or "lstm"), your function must return a number: only other kinds raise a '
    "ValueError.",
)
COUNT_NOT_INT = Hint(
    "count_not_int",
    "Le nombre est juste, mais un nombre de paramètres est un entier : renvoyez un int (la division / donne un "
    "float : utilisez // ou int(...)).",
    "The number is right, but a number of parameters is an integer: return an int (the division / gives a float:"
    " use // or int(...)).",
)

BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}
MODULES = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def _sizes(seed):
    """E and H drawn apart (E < H), so that each typical mistake gives its own count."""
    gen = torch.Generator().manual_seed(seed)
    e = int(torch.randint(3, 10, (1,), generator=gen))
    h = int(torch.randint(11, 20, (1,), generator=gen))
    return e, h


@remembered
def _real_count(kind, e, h, layers, bidirectional):
    """What PyTorch itself holds: build the module and count."""
    module = MODULES[kind](e, h, num_layers=layers, bidirectional=bidirectional)
    return sum(p.numel() for p in module.parameters())


def _formula(e, h, layers, blocks, *, directions, deeper_input, biases=2):
    total = 0
    for layer in range(layers):
        layer_input = e if layer == 0 else deeper_input
        total += directions * blocks * h * (layer_input + h + biases)
    return total


def _variants(kind, e, h, layers, bidirectional):
    """(hint, count) for each typical mistake; a hint may have several variants."""
    d = 2 if bidirectional else 1
    blocks = BLOCKS[kind]
    pairs = [
        (ONE_BIAS, _formula(e, h, layers, blocks, directions=d, deeper_input=d * h, biases=1)),
        (INPUT_SIZE_EVERY_LAYER, _formula(e, h, layers, blocks, directions=d, deeper_input=e)),
        (DEEPER_LAYERS_TAKE_2H, _formula(e, h, layers, blocks, directions=d, deeper_input=h)),
        (BIDIRECTIONAL_NOT_DOUBLED, _formula(e, h, layers, blocks, directions=1, deeper_input=h)),
        (BIDIRECTIONAL_NOT_DOUBLED, _formula(e, h, layers, blocks, directions=1, deeper_input=d * h)),
    ]
    wrong_blocks = {"rnn": (3, 4), "gru": (4, 2, 1), "lstm": (3, 1)}[kind]
    pairs += [(WRONG_BLOCKS, _formula(e, h, layers, b, directions=d, deeper_input=d * h)) for b in wrong_blocks]
    return pairs


def _mistakes(got, pairs):
    """One value per hint for expect_equal: of a hint's variants, the one equal to ``got`` if any."""
    chosen = {}
    for hint, value in pairs:
        if hint not in chosen or (type(got) in (int, float) and value == got):
            chosen[hint] = value
    return chosen


def _number(value):
    """A count as a number, whatever its type (1234.0, tensor(1234)), or None if it is not one."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.dim() == 0 and not value.is_complex() else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _expect_accepted(student, kind):
    """A valid kind is not refused: no ValueError, and a number, right or wrong (the counting tests judge its
    value). Another error is a slip in the counting, not a refusal: the counting tests show it."""
    try:
        got = student.count_recurrent_parameters(kind, 10, 20)
    except StudentError as error:
        if error.is_a("NotImplementedError"):
            raise
        if not error.is_a("ValueError"):
            return
        raise Mistake(
            VALID_KIND_REFUSED, fr_en("kind = {k} : {e}", "kind = {k}: {e}", k=repr(kind), e=raised(error))
        ) from None
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise Mistake(
            VALID_KIND_REFUSED,
            fr_en(
                "kind = {k} : attendu un nombre, obtenu {t}",
                "kind = {k}: expected a number, got {t}",
                k=repr(kind),
                t=type(got).__name__,
            ),
        )


def _expect_count(student, kind, e, h, layers=1, bidirectional=False):
    expected = _real_count(kind, e, h, layers, bidirectional)
    if layers == 1 and not bidirectional:
        got = student.count_recurrent_parameters(kind, e, h)
    else:
        got = student.count_recurrent_parameters(kind, e, h, num_layers=layers, bidirectional=bidirectional)
    what = fr_en("nombre de paramètres ({k})", "number of parameters ({k})", k=kind)
    if type(got) is not int and _number(got) == expected:
        raise Mistake(
            COUNT_NOT_INT,
            fr_en("{w} : {g}, de type {t}", "{w}: {g}, of type {t}", w=what, g=shown(got), t=type(got).__name__),
        )
    pairs = _variants(kind, e, h, layers, bidirectional)
    expect_equal(
        got,
        expected,
        WRONG_COUNT,
        _mistakes(got, pairs),
        what=what,
    )


@pytest.mark.parametrize(
    ("seed", "kind", "layers", "bidirectional"),
    [
        (0, "rnn", 1, False),
        (1, "gru", 1, False),
        (2, "lstm", 2, False),
        (3, "gru", 3, True),
        (4, "rnn", 2, True),
        (5, "lstm", 3, True),
    ],
)
@title(
    "Le nombre de paramètres d'un nn.{kind} à {layers}, {bidirectional}, égale celui du module PyTorch.",
    "The parameter count of an nn.{kind} with {layers}, {bidirectional}, equals the PyTorch module's.",
    kind={"rnn": ("RNN", "RNN"), "gru": ("GRU", "GRU"), "lstm": ("LSTM", "LSTM")},
    layers={1: ("une couche", "one layer"), 2: ("deux couches", "two layers"), 3: ("trois couches", "three layers")},
    bidirectional={True: ("bidirectionnel", "bidirectional"), False: ("dans une seule direction", "in one direction")},
)
def test_count_matches_pytorch(student, seed, kind, layers, bidirectional):
    e, h = _sizes(seed)
    _expect_count(student, kind, e, h, layers, bidirectional)


@pytest.mark.parametrize("kind", ["transformer", ""])
@title(
    "Un kind inconnu ({kind}) lève une ValueError (et «\xa0gru\xa0» n'en lève pas).",
    'An unknown kind ({kind}) raises a ValueError (and "gru" raises none).',
    kind={"transformer": ("«\xa0transformer\xa0»", '"transformer"'), "": ("une chaîne vide", "an empty string")},
)
def test_unknown_kind_raises_value_error(student, kind):
    _expect_accepted(student, "gru")  # a function that always raises earns nothing here
    with expect_raises("ValueError", UNKNOWN_KIND):
        student.count_recurrent_parameters(kind, 10, 20)


@title(
    'kind doit valoir exactement "rnn", "gru" ou "lstm" : «\xa0RNN\xa0» lève une ValueError, «\xa0rnn\xa0» non.',
    'kind must be exactly "rnn", "gru" or "lstm": "RNN" raises a ValueError, "rnn" does not.',
)
def test_kind_is_case_sensitive(student):
    _expect_accepted(student, "rnn")  # a function that always raises earns nothing here
    with expect_raises("ValueError", KIND_NOT_EXACT):
        student.count_recurrent_parameters("RNN", 10, 20)
