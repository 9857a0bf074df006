"""packed_last_hidden(rnn, x_in, x_lengths): the last layer's final state (N, H) from a packed run, unsorted lengths."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

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
RETURNS = Returns(Text("un seul tenseur PyTorch de forme (N, H)", "a single PyTorch tensor of shape (N, H)"), "tensor")

WRONG_VALUES = Hint(
    "packed_wrong_values",
    "Le résultat ne correspond pas à l'état final de la dernière couche, calculé sur la séquence empaquetée "
    "(pack_padded_sequence(..., batch_first=True, enforce_sorted=False)).",
    "The result does not match the last layer's final state computed on the packed sequence "
    "(pack_padded_sequence(..., batch_first=True, enforce_sorted=False)).",
)
ENFORCE_SORTED = Hint(
    "enforce_sorted_true",
    "Les longueurs arrivent dans n'importe quel ordre : passez enforce_sorted=False à pack_padded_sequence, "
    "qui trie le batch puis remet les états finaux dans l'ordre d'origine.",
    "The lengths come in any order: pass enforce_sorted=False to pack_padded_sequence, which sorts the batch "
    "and then puts the final states back in the original order.",
)
SORTED_ORDER = Hint(
    "returned_in_sorted_order",
    "Vos états sont dans l'ordre des longueurs triées, pas dans celui du batch : ne triez pas vous-même, "
    "ou remettez les lignes dans l'ordre d'origine (enforce_sorted=False le fait pour vous).",
    "Your states are in the order of the sorted lengths, not in the batch's order: do not sort yourself, or "
    "put the rows back in the original order (enforce_sorted=False does it for you).",
)
RETURNED_C_N = Hint(
    "returned_c_n",
    "Avec un nn.LSTM, l'état final est un tuple (h_n, c_n) : renvoyez la dernière couche de h_n, pas c_n "
    "(l'état de la cellule mémoire).",
    "With an nn.LSTM, the final state is a tuple (h_n, c_n): return the last layer of h_n, not c_n (the memory"
    " cell's state).",
)
WHOLE_H_N = Hint(
    "returned_whole_h_n",
    "Vous renvoyez tout h_n, de forme (L, N, H) : gardez seulement la dernière couche, h_n[-1], de forme (N, H).",
    "You return the whole h_n, of shape (L, N, H): keep only the last layer, h_n[-1], of shape (N, H).",
)
FIRST_LAYER = Hint(
    "returned_first_layer",
    "h_n[0] est l'état de la première couche : pour un réseau à plusieurs couches, il faut la dernière, h_n[-1].",
    "h_n[0] is the state of the first layer: for a network with several layers, you need the last one, h_n[-1].",
)
PADDED_LAST_STEP = Hint(
    "read_padded_last_step",
    "Vous lisez le dernier pas de la sortie remise en forme (out[:, -1]) ou d'un passage sans empaquetage : "
    "pour les séquences courtes, c'est du remplissage. L'état final h_n de la séquence empaquetée est le bon.",
    "You read the last step of the unpacked output (out[:, -1]) or of a run without packing: for short "
    "sequences, that is padding. The final state h_n of the packed sequence is the right one.",
)
LENGTHS_AS_LIST = Hint(
    "packed_lengths_as_list",
    "x_lengths peut être une liste d'entiers : convertissez-la d'abord en tenseur (torch.as_tensor(x_lengths)).",
    "x_lengths may be a list of ints: convert it to a tensor first (torch.as_tensor(x_lengths)).",
)

LSTM_STATE_TUPLE = Hint(
    "returned_lstm_state_tuple",
    "Vous renvoyez le tuple (h_n, c_n) qu'un nn.LSTM donne comme état final\xa0: renvoyez un seul tenseur, la "
    "dernière couche de h_n. Par exemple\xa0: out, (h_n, c_n) = rnn(packed), puis return h_n[-1].",
    "You return the tuple (h_n, c_n) that an nn.LSTM gives as its final state: return a single tensor, the "
    "last layer of h_n. For example: out, (h_n, c_n) = rnn(packed), then return h_n[-1].",
)


def _case(seed, kind, lengths, t, layers=1, e=4, h=5):
    gen = torch.Generator().manual_seed(seed)
    rnn = getattr(nn, kind)(e, h, num_layers=layers, batch_first=True)
    seed_weights(rnn, generator=gen, scale=0.6)
    x_in = torch.randn(len(lengths), t, e, generator=gen)
    return rnn, x_in


@torch.no_grad()
@remembered
def _expected_and_mistakes(rnn, x_in, lengths):
    # Each sequence alone, without its padding: its final state is what the packed run must give.
    finals = [rnn(x_in[b : b + 1, :length])[1] for b, length in enumerate(lengths)]
    lstm = isinstance(rnn, nn.LSTM)
    h_n = torch.cat([f[0] if lstm else f for f in finals], dim=1)  # (L, N, H), in batch order
    expected = h_n[-1]
    out_packed, _ = rnn(pack_padded_sequence(x_in, lengths, batch_first=True, enforce_sorted=False))
    out_padded, _ = pad_packed_sequence(out_packed, batch_first=True)
    c_n = torch.cat([f[1] for f in finals], dim=1) if lstm else None
    order = sorted(range(len(lengths)), key=lambda b: -lengths[b])
    mistakes = {
        SORTED_ORDER: expected[order] if order != sorted(order) else None,
        RETURNED_C_N: [c_n[-1], c_n] if c_n is not None else None,
        LSTM_STATE_TUPLE: [(h_n, c_n), (h_n[-1], c_n[-1])] if c_n is not None else None,
        WHOLE_H_N: h_n,
        FIRST_LAYER: h_n[0] if rnn.num_layers > 1 else None,
        PADDED_LAST_STEP: [out_padded[:, -1], rnn(x_in)[0][:, -1]],
    }
    return expected, mistakes


def _check(student, rnn, x_in, lengths, as_tensor):
    hints = {"RuntimeError": ENFORCE_SORTED}
    if not as_tensor:
        hints |= {"TypeError": LENGTHS_AS_LIST, "AttributeError": LENGTHS_AS_LIST}
    with hints_for_errors(hints, only_if={"RuntimeError": "enforce_sorted"}):
        got = student.packed_last_hidden(rnn, x_in, torch.tensor(lengths) if as_tensor else list(lengths))
    expected, mistakes = _expected_and_mistakes(rnn, x_in, lengths)
    expect_close(
        got,
        expected,
        WRONG_VALUES,
        mistakes,
        what=fr_en("états finaux (longueurs {x})", "final states (lengths {x})", x=lengths),
    )


@pytest.mark.parametrize(("seed", "lengths", "as_tensor"), [(0, [3, 6, 1, 4], False), (1, [2, 5, 6, 4, 3], True)])
@title(
    "nn.RNN, longueurs {lengths} dans le désordre, {as_tensor} : état final de chaque séquence, dans l'ordre du batch.",
    "nn.RNN, unsorted lengths {lengths}, {as_tensor}: each sequence's final state, in the batch's order.",
    as_tensor={True: ("en tenseur", "as a tensor"), False: ("en liste", "as a list")},
)
def test_rnn(student, seed, lengths, as_tensor):
    rnn, x_in = _case(seed, "RNN", lengths, t=6)
    _check(student, rnn, x_in, lengths, as_tensor)


@pytest.mark.parametrize(("seed", "lengths", "as_tensor"), [(2, [5, 2, 7, 3], False), (3, [1, 4, 2, 6], True)])
@title(
    "nn.GRU à deux couches, longueurs {lengths} {as_tensor} : l'état final de la dernière couche, forme (N, H).",
    "nn.GRU with two layers, lengths {lengths} {as_tensor}: the last layer's final state, shape (N, H).",
    as_tensor={True: ("en tenseur", "as a tensor"), False: ("en liste", "as a list")},
)
def test_two_layer_gru(student, seed, lengths, as_tensor):
    rnn, x_in = _case(seed, "GRU", lengths, t=7, layers=2)
    _check(student, rnn, x_in, lengths, as_tensor)


@pytest.mark.parametrize(
    ("seed", "layers", "lengths", "as_tensor"), [(4, 1, [2, 5, 3], True), (5, 2, [4, 1, 6, 2], False)]
)
@title(
    "nn.LSTM à {layers}, longueurs {lengths} {as_tensor} : l'état caché h (et non la cellule mémoire c) "
    "de la dernière couche.",
    "nn.LSTM with {layers}, lengths {lengths} {as_tensor}: the hidden state h (not the memory cell c) of "
    "the last layer.",
    layers={1: ("une couche", "one layer"), 2: ("deux couches", "two layers"), 3: ("trois couches", "three layers")},
    as_tensor={True: ("en tenseur", "as a tensor"), False: ("en liste", "as a list")},
)
def test_lstm(student, seed, layers, lengths, as_tensor):
    rnn, x_in = _case(seed, "LSTM", lengths, t=6, layers=layers)
    _check(student, rnn, x_in, lengths, as_tensor)


@title(
    "Longueurs déjà triées par ordre décroissant, dont une de longueur 1 : même résultat.",
    "Lengths already sorted in decreasing order, one of them 1: the same result.",
)
def test_sorted_lengths(student):
    lengths = [6, 4, 4, 1]
    rnn, x_in = _case(6, "GRU", lengths, t=6)
    _check(student, rnn, x_in, lengths, True)
