"""classify_hidden(z, fc): class probabilities, softmax over the class axis, from (N, H) or (1, N, H)."""

import pytest
import torch
from torch import nn

from autograder.testing import Hint, Returns, Text, expect_close, seed_weights, title

# What the function returns, as students read it.
RETURNS = Returns(
    Text("un tenseur PyTorch de probabilités de forme (N, C)", "a PyTorch tensor of probabilities of shape (N, C)"),
    "tensor",
)

WRONG_VALUES = Hint(
    "classify_wrong_values",
    "Les probabilités ne correspondent pas à softmax(fc(z)) sur l'axe des classes.",
    "The probabilities do not match softmax(fc(z)) over the class axis.",
)
SOFTMAX_OVER_BATCH = Hint(
    "softmax_over_batch",
    "Vous normalisez sur l'axe du batch (dim=0) : chaque colonne somme à 1 au lieu de chaque ligne. "
    "Le softmax doit porter sur l'axe des classes (dim=-1 ou dim=1 pour un tenseur (N, C)).",
    "You normalise over the batch axis (dim=0): each column sums to 1 instead of each row. The softmax must "
    "run over the class axis (dim=-1, or dim=1 for an (N, C) tensor).",
)
NO_SOFTMAX = Hint(
    "no_softmax",
    "Vous renvoyez les logits fc(z) : il manque le softmax qui les transforme en probabilités.",
    "You return the logits fc(z): the softmax that turns them into probabilities is missing.",
)
LOG_SOFTMAX = Hint(
    "log_softmax",
    "Vous renvoyez des log-probabilités (log_softmax) : la fonction doit renvoyer des probabilités.",
    "You return log-probabilities (log_softmax): the function must return probabilities.",
)
SIGMOID = Hint(
    "sigmoid_instead_of_softmax",
    "Vous appliquez une sigmoïde : elle ne donne pas une distribution qui somme à 1 sur les classes.",
    "You apply a sigmoid: it does not give a distribution that sums to 1 over the classes.",
)
KEPT_LAYER_AXIS = Hint(
    "kept_layer_axis",
    "Pour un z de forme (1, N, H) (le h_n d'un nn.RNN), le résultat doit être (N, C) : "
    "retirez la première dimension (z[0] ou squeeze(0)).",
    "For a z of shape (1, N, H) (the h_n of an nn.RNN), the result must be (N, C): remove the first dimension "
    "(z[0] or squeeze(0)).",
)

KEPT_AXIS_OVER_BATCH = Hint(
    "kept_layer_axis_softmax_over_batch",
    "Deux erreurs sur z de forme (1, N, H)\xa0: le résultat garde la première dimension, forme (1, N, C), et le "
    "softmax porte sur l'axe du batch (dim=1 ici), si bien que chaque colonne somme à 1. Retirez d'abord la "
    "première dimension (z[0] ou squeeze(0)), puis normalisez sur l'axe des classes (dim=-1).",
    "Two mistakes on a z of shape (1, N, H): the result keeps the first dimension, shape (1, N, C), and the "
    "softmax runs over the batch axis (dim=1 here), so each column sums to 1. First remove the first dimension "
    "(z[0] or squeeze(0)), then normalise over the class axis (dim=-1).",
)
SOFTMAX_OVER_LAYER_AXIS = Hint(
    "softmax_over_layer_axis",
    "Sur z de forme (1, N, H), fc(z) est de forme (1, N, C) et dim=0 est l'axe de taille 1\xa0: le softmax sur cet "
    "axe donne 1 partout. Retirez d'abord la première dimension (z[0] ou squeeze(0)), puis normalisez sur "
    "l'axe des classes (dim=-1).",
    "On a z of shape (1, N, H), fc(z) has shape (1, N, C) and dim=0 is the axis of size 1: the softmax over it "
    "gives 1 everywhere. First remove the first dimension (z[0] or squeeze(0)), then normalise over the class "
    "axis (dim=-1).",
)


def _case(seed, n, hidden, classes):
    gen = torch.Generator().manual_seed(seed)
    fc = nn.Linear(hidden, classes)
    seed_weights(fc, generator=gen)
    z = torch.randn(n, hidden, generator=gen)
    return z, fc


def _mistakes(logits, layer_axis=False):
    """What typical wrong answers return; ``layer_axis``: z came as (1, N, H), so fc(z) is (1, N, C)."""
    mistakes = {
        SOFTMAX_OVER_BATCH: torch.softmax(logits, dim=0),
        NO_SOFTMAX: logits,
        LOG_SOFTMAX: torch.log_softmax(logits, dim=-1),
        SIGMOID: torch.sigmoid(logits),
        KEPT_LAYER_AXIS: torch.softmax(logits, dim=-1).unsqueeze(0),
    }
    if layer_axis:  # the softmax over each axis of the (1, N, C) tensor, squeezed or not afterwards
        over_layer = torch.ones_like(logits)
        mistakes[KEPT_AXIS_OVER_BATCH] = torch.softmax(logits, dim=0).unsqueeze(0)
        mistakes[SOFTMAX_OVER_LAYER_AXIS] = [over_layer.unsqueeze(0), over_layer]
    return mistakes


@pytest.mark.parametrize(("seed", "n", "hidden", "classes"), [(0, 4, 6, 3), (1, 7, 5, 2), (2, 3, 8, 5)])
@title(
    "Le softmax de fc(z) sur l'axe des classes, pour z de forme (N, H) avec N = {n}, H = {hidden} et C = "
    "{classes} classes.",
    "The softmax of fc(z) over the class axis, for z of shape (N, H) with N = {n}, H = {hidden} and C = "
    "{classes} classes.",
)
def test_probabilities_from_batch_of_states(student, seed, n, hidden, classes):
    z, fc = _case(seed, n, hidden, classes)
    logits = fc(z).detach()
    got = student.classify_hidden(z, fc)
    expect_close(got, torch.softmax(logits, dim=-1), WRONG_VALUES, _mistakes(logits))


@pytest.mark.parametrize(("seed", "n"), [(3, 5), (4, 2)])
@title(
    "Un z de forme (1, {n}, H), comme le h_n d'un nn.RNN à une couche : résultat de forme ({n}, C).",
    "A z of shape (1, {n}, H), like the h_n of a one-layer nn.RNN: a result of shape ({n}, C).",
)
def test_probabilities_from_h_n(student, seed, n):
    z, fc = _case(seed, n, 6, 4)
    logits = fc(z).detach()
    got = student.classify_hidden(z.unsqueeze(0), fc)
    expect_close(got, torch.softmax(logits, dim=-1), WRONG_VALUES, _mistakes(logits, layer_axis=True))


@title(
    "Un batch d'une seule séquence : la ligne somme à 1 sur les classes.",
    "A batch of a single sequence: the row sums to 1 over the classes.",
)
def test_single_sequence(student):
    z, fc = _case(5, 1, 4, 3)
    logits = fc(z).detach()
    got = student.classify_hidden(z, fc)
    expect_close(got, torch.softmax(logits, dim=-1), WRONG_VALUES, _mistakes(logits))


@title(
    "Chaque ligne du résultat somme à 1, même avec des états cachés de grande amplitude.",
    "Each row of the result sums to 1, even with hidden states of large magnitude.",
)
def test_rows_sum_to_one(student):
    z, fc = _case(6, 6, 5, 4)
    z = z * 30
    got = student.classify_hidden(z, fc)
    logits = fc(z).detach()
    expect_close(got, torch.softmax(logits, dim=-1), WRONG_VALUES, _mistakes(logits))
