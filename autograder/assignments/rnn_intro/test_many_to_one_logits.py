"""many_to_one_logits(rnn, fc, x_in, x_lengths): fc of each sequence's last relevant output, against unpadded runs."""

import pytest
import torch
from torch import nn

from autograder.testing import (
    Hint,
    Returns,
    Text,
    expect_close,
    fr_en,
    hints_for_errors,
    remembered,
    seed_weights,
    title,
)

# What the function returns, as students read it.
RETURNS = Returns(
    Text("un tenseur PyTorch de logits de forme (N, C)", "a PyTorch tensor of logits of shape (N, C)"), "tensor"
)

WRONG_VALUES = Hint(
    "many_to_one_wrong_values",
    "Les logits ne correspondent pas à fc appliquée à la sortie du réseau au dernier pas réel de chaque séquence, "
    "out[b, x_lengths[b] - 1].",
    "The logits do not match fc applied to the network's output at the last real step of each sequence, out[b,"
    " x_lengths[b] - 1].",
)
READS_PADDING = Hint(
    "many_to_one_reads_padding",
    "Vous utilisez h_n (ou out[:, -1]) : pour les séquences plus courtes que T, cet état a aussi lu le remplissage. "
    "Prenez la sortie out[b, x_lengths[b] - 1] de chaque séquence.",
    "You use h_n (or out[:, -1]): for sequences shorter than T, that state has also read the padding. Take the"
    " output out[b, x_lengths[b] - 1] of each sequence.",
)
OFF_BY_ONE = Hint(
    "many_to_one_off_by_one",
    "Décalage d'indice : la sortie au dernier pas réel d'une séquence de longueur L est out[b, L - 1], pas out[b, L].",
    "Off by one: the output at the last real step of a sequence of length L is out[b, L - 1], not out[b, L].",
)
FIRST_LAYER = Hint(
    "many_to_one_first_layer",
    "Avec plusieurs couches, h_n[0] est l'état de la première couche : le classifieur doit lire la dernière couche, "
    "c'est-à-dire la sortie out du réseau (ou h_n[-1] d'une séquence empaquetée).",
    "With several layers, h_n[0] is the state of the first layer: the classifier must read the last layer, "
    "that is the network's output out (or h_n[-1] of a packed sequence).",
)
MISSING_FC = Hint(
    "many_to_one_missing_fc",
    "Vous renvoyez les états cachés (N, H) : appliquez ensuite la couche fc pour obtenir les logits (N, C).",
    "You return the hidden states (N, H): then apply the fc layer to get the (N, C) logits.",
)
PROBABILITIES = Hint(
    "many_to_one_probabilities",
    "Vous renvoyez des probabilités (softmax) : la fonction doit renvoyer les logits, c'est-à-dire fc(...) seul.",
    "You return probabilities (softmax): the function must return the logits, that is fc(...) alone.",
)
LENGTHS_AS_LIST = Hint(
    "many_to_one_lengths_as_list",
    "x_lengths peut être une liste d'entiers : convertissez-la d'abord en tenseur (torch.as_tensor(x_lengths)).",
    "x_lengths may be a list of ints: convert it to a tensor first (torch.as_tensor(x_lengths)).",
)
ENFORCE_SORTED = Hint(
    "many_to_one_enforce_sorted",
    "Les longueurs ne sont pas triées : si vous empaquetez la séquence, passez enforce_sorted=False "
    "à pack_padded_sequence (le résultat garde alors l'ordre du batch).",
    "The lengths are not sorted: if you pack the sequence, pass enforce_sorted=False to pack_padded_sequence "
    "(the result then keeps the batch's order).",
)


def _modules(seed, kind, e, h, c, layers):
    gen = torch.Generator().manual_seed(seed)
    rnn = getattr(nn, kind)(e, h, num_layers=layers, batch_first=True)
    fc = nn.Linear(h, c)
    seed_weights(rnn, fc, generator=gen, scale=0.6)
    return rnn, fc, gen


def _case(seed, kind, lengths, t, layers=1, e=4, h=5, c=3):
    rnn, fc, gen = _modules(seed, kind, e, h, c, layers)
    x_in = torch.randn(len(lengths), t, e, generator=gen)
    return rnn, fc, x_in


@torch.no_grad()
@remembered
def _expected_and_mistakes(rnn, fc, x_in, lengths):
    # Each sequence alone, without its padding: its last output is the state the classifier must read.
    alone = [rnn(x_in[b : b + 1, :length]) for b, length in enumerate(lengths)]
    relevant = torch.cat([out[:, -1] for out, _ in alone])
    expected = fc(relevant)
    out, h_n = rnn(x_in)
    t = x_in.shape[1]
    packed_first_layer = torch.cat([h[0] for _, h in alone])
    mistakes = {
        READS_PADDING: fc(h_n[-1]),
        OFF_BY_ONE: fc(torch.stack([out[b, n] for b, n in enumerate(lengths)])) if max(lengths) < t else None,
        FIRST_LAYER: [fc(h_n[0]), fc(packed_first_layer)] if rnn.num_layers > 1 else None,
        MISSING_FC: relevant,
        PROBABILITIES: torch.softmax(expected, dim=-1),
    }
    return expected, mistakes


def _check(student, rnn, fc, x_in, lengths, as_tensor):
    hints = {"IndexError": OFF_BY_ONE, "RuntimeError": ENFORCE_SORTED}
    if not as_tensor:
        hints |= {"TypeError": LENGTHS_AS_LIST, "AttributeError": LENGTHS_AS_LIST}
    with hints_for_errors(hints, only_if={"RuntimeError": "enforce_sorted"}):
        got = student.many_to_one_logits(rnn, fc, x_in, torch.tensor(lengths) if as_tensor else list(lengths))
    expected, mistakes = _expected_and_mistakes(rnn, fc, x_in, lengths)
    expect_close(
        got, expected, WRONG_VALUES, mistakes, what=fr_en("logits (longueurs {x})", "logits (lengths {x})", x=lengths)
    )


@pytest.mark.parametrize(
    ("seed", "t", "lengths", "as_tensor"),
    [(0, 6, [3, 6, 1, 4], False), (1, 7, [2, 5, 7, 4, 6], True), (2, 6, [4, 2, 5], False)],
)
@title(
    "nn.RNN à une couche, longueurs {lengths} dans le désordre, {as_tensor}, T = {t} : fc de la sortie "
    "au dernier pas réel.",
    "One-layer nn.RNN, unsorted lengths {lengths}, {as_tensor}, T = {t}: fc of the output at the last real step.",
    as_tensor={True: ("en tenseur", "as a tensor"), False: ("en liste", "as a list")},
)
def test_rnn_unsorted_lengths(student, seed, t, lengths, as_tensor):
    rnn, fc, x_in = _case(seed, "RNN", lengths, t=t)
    _check(student, rnn, fc, x_in, lengths, as_tensor)


@pytest.mark.parametrize(
    ("seed", "layers", "lengths", "as_tensor"), [(3, 2, [5, 2, 6, 3], False), (4, 3, [1, 4, 2], True)]
)
@title(
    "nn.GRU à {layers}, longueurs {lengths} {as_tensor} : la sortie out est celle de la dernière couche, "
    "au dernier pas réel.",
    "nn.GRU with {layers}, lengths {lengths} {as_tensor}: the output out is the last layer's, at the last real step.",
    layers={1: ("une couche", "one layer"), 2: ("deux couches", "two layers"), 3: ("trois couches", "three layers")},
    as_tensor={True: ("en tenseur", "as a tensor"), False: ("en liste", "as a list")},
)
def test_multilayer_gru(student, seed, layers, lengths, as_tensor):
    rnn, fc, x_in = _case(seed, "GRU", lengths, t=6, layers=layers)
    _check(student, rnn, fc, x_in, lengths, as_tensor)


@title(
    "Toutes les séquences de longueur T (aucun remplissage) : fc de la sortie au dernier pas.",
    "Every sequence of length T (no padding): fc of the output at the last step.",
)
def test_full_length_batch(student):
    lengths = [5, 5, 5, 5]
    rnn, fc, x_in = _case(5, "GRU", lengths, t=5, layers=2)
    _check(student, rnn, fc, x_in, lengths, True)


@title(
    "Une seule séquence, plus courte que T : les pas de remplissage ne doivent pas compter.",
    "A single sequence, shorter than T: the padding steps must not count.",
)
def test_single_short_sequence(student):
    lengths = [3]
    rnn, fc, x_in = _case(6, "RNN", lengths, t=7)
    _check(student, rnn, fc, x_in, lengths, False)
