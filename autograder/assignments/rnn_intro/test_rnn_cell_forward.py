"""rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h): one step of the equation, against nn.RNNCell."""

import pytest
import torch
from torch import nn

from autograder.testing import (
    Hint,
    Mistake,
    Returns,
    Text,
    expect_answered,
    expect_close,
    fr_en,
    hints_for_errors,
    remembered,
    title,
)

# What the function returns, as students read it.
RETURNS = Returns(Text("un tenseur PyTorch h_t de forme (N, H)", "a PyTorch tensor h_t of shape (N, H)"), "tensor")

WRONG_VALUES = Hint(
    "cell_wrong_values",
    "h_t ne correspond pas à l'équation h_t = tanh(x_t @ W_xh + h_prev @ W_hh + b_h).",
    "h_t does not match the equation h_t = tanh(x_t @ W_xh + h_prev @ W_hh + b_h).",
)
MISSING_TANH = Hint(
    "missing_tanh",
    "Il manque la non-linéarité : appliquez torch.tanh à x_t @ W_xh + h_prev @ W_hh + b_h.",
    "The non-linearity is missing: apply torch.tanh to x_t @ W_xh + h_prev @ W_hh + b_h.",
)
RELU = Hint(
    "relu_instead_of_tanh",
    "Vous appliquez ReLU : le RNN simple de l'équation utilise tanh (torch.tanh).",
    "You apply ReLU: the simple RNN of the equation uses tanh (torch.tanh).",
)
SIGMOID = Hint(
    "sigmoid_instead_of_tanh",
    "Vous appliquez une sigmoïde : le RNN simple de l'équation utilise tanh (torch.tanh), à valeurs dans [-1, 1].",
    "You apply a sigmoid: the simple RNN of the equation uses tanh (torch.tanh), with values in [-1, 1].",
)
TRANSPOSED_W_XH = Hint(
    "transposed_w_xh",
    "Vous utilisez W_xh transposée : W_xh est déjà de forme (E, H), le produit s'écrit x_t @ W_xh, sans .T.",
    "You use W_xh transposed: W_xh already has shape (E, H), the product is x_t @ W_xh, without .T.",
)
TRANSPOSED_W_HH = Hint(
    "transposed_w_hh",
    "Vous utilisez W_hh transposée : le produit s'écrit h_prev @ W_hh, sans .T "
    "(nn.RNNCell range ses poids transposés, mais ici ils sont donnés dans le sens de l'équation).",
    "You use W_hh transposed: the product is h_prev @ W_hh, without .T (nn.RNNCell stores its weights "
    "transposed, but here they are given the way the equation uses them).",
)
FORGOT_BIAS = Hint(
    "forgot_bias",
    "Il manque le biais : ajoutez b_h avant d'appliquer tanh.",
    "The bias is missing: add b_h before applying tanh.",
)
IGNORED_H_PREV = Hint(
    "ignored_h_prev",
    "L'état précédent n'intervient pas : il faut ajouter le terme h_prev @ W_hh.",
    "The previous state plays no part: you must add the term h_prev @ W_hh.",
)
MATMUL_SHAPES = Hint(
    "matmul_shapes",
    "Les formes ne s'accordent pas : x_t (N, E) se multiplie par W_xh (E, H) et h_prev (N, H) par W_hh (H, H), "
    "dans cet ordre (x_t @ W_xh, h_prev @ W_hh) et sans transposer.",
    "The shapes do not fit: x_t (N, E) is multiplied by W_xh (E, H) and h_prev (N, H) by W_hh (H, H), in that "
    "order (x_t @ W_xh, h_prev @ W_hh) and without transposing.",
)
MODIFIED_INPUTS = Hint(
    "modified_inputs",
    "Votre fonction modifie un de ses arguments (une opération sur place, comme h_prev.copy_(...) ou +=) : "
    "calculez un nouveau tenseur au lieu de changer les entrées.",
    "Your function modifies one of its arguments (an in-place operation, such as h_prev.copy_(...) or +=): "
    "compute a new tensor instead of changing the inputs.",
)


def _case(seed, n, e, h):
    gen = torch.Generator().manual_seed(seed)
    x_t = torch.randn(n, e, generator=gen)
    h_prev = torch.randn(n, h, generator=gen)
    w_xh = torch.randn(e, h, generator=gen) * 0.6
    w_hh = torch.randn(h, h, generator=gen) * 0.6
    b_h = torch.randn(h, generator=gen)
    return x_t, h_prev, w_xh, w_hh, b_h


@remembered
def _reference(x_t, h_prev, w_xh, w_hh, b_h, nonlinearity="tanh"):
    """nn.RNNCell with the equation's weights: it stores them transposed and has a second bias (zero here)."""
    cell = nn.RNNCell(w_xh.shape[0], w_xh.shape[1], nonlinearity=nonlinearity)
    with torch.no_grad():
        cell.weight_ih.copy_(w_xh.T)
        cell.weight_hh.copy_(w_hh.T)
        cell.bias_ih.copy_(b_h)
        cell.bias_hh.zero_()
        return cell(x_t, h_prev)


def _mistakes(x_t, h_prev, w_xh, w_hh, b_h):
    pre = x_t @ w_xh + h_prev @ w_hh + b_h
    square = w_xh.shape[0] == w_xh.shape[1]
    return {
        MISSING_TANH: pre,
        RELU: _reference(x_t, h_prev, w_xh, w_hh, b_h, nonlinearity="relu"),
        SIGMOID: torch.sigmoid(pre),
        TRANSPOSED_W_XH: _reference(x_t, h_prev, w_xh.T, w_hh, b_h) if square else None,
        TRANSPOSED_W_HH: _reference(x_t, h_prev, w_xh, w_hh.T, b_h),
        FORGOT_BIAS: _reference(x_t, h_prev, w_xh, w_hh, torch.zeros_like(b_h)),
        IGNORED_H_PREV: _reference(x_t, torch.zeros_like(h_prev), w_xh, w_hh, b_h),
    }


def _check(student, args):
    with hints_for_errors({"RuntimeError": MATMUL_SHAPES}):
        got = student.rnn_cell_forward(*args)
    expect_close(got, _reference(*args), WRONG_VALUES, _mistakes(*args), what="h_t")


@pytest.mark.parametrize(("seed", "n", "e", "h"), [(0, 3, 4, 5), (1, 6, 7, 3), (2, 2, 10, 6)])
@title(
    "Un pas de temps sur un batch de {n} séquences (E = {e}, H = {h}) : même résultat que nn.RNNCell "
    "avec les mêmes poids.",
    "One time step on a batch of {n} sequences (E = {e}, H = {h}): the same result as nn.RNNCell with "
    "the same weights.",
)
def test_matches_rnn_cell(student, seed, n, e, h):
    _check(student, _case(seed, n, e, h))


@title(
    "Avec E = H, les deux matrices sont carrées : x_t @ W_xh et h_prev @ W_hh, sans transposition.",
    "With E = H, both matrices are square: x_t @ W_xh and h_prev @ W_hh, without transposing.",
)
def test_square_weights(student):
    _check(student, _case(3, 4, 5, 5))


@title(
    "Un batch d'une seule séquence (N = 1) : le résultat a la forme (1, H).",
    "A batch of a single sequence (N = 1): the result has shape (1, H).",
)
def test_single_sequence(student):
    _check(student, _case(4, 1, 3, 4))


@title(
    "Des entrées de grande amplitude : tanh sature vers ±1 sans dépasser.",
    "Inputs of large magnitude: tanh saturates towards ±1 without going past it.",
)
def test_large_inputs(student):
    x_t, h_prev, w_xh, w_hh, b_h = _case(5, 5, 6, 4)
    _check(student, (x_t * 4, h_prev, w_xh, w_hh, b_h))


@title("La fonction ne modifie aucun de ses arguments.", "The function modifies none of its arguments.")
def test_inputs_unchanged(student):
    args = _case(6, 4, 3, 6)
    originals = [a.clone() for a in args]
    with hints_for_errors({"RuntimeError": MATMUL_SHAPES}):
        call = student.rnn_cell_forward.keeping_arguments(*args)
    expect_answered(call, _reference(*originals), WRONG_VALUES, _mistakes(*originals), what="h_t")
    for name, after, before in zip(("x_t", "h_prev", "W_xh", "W_hh", "b_h"), call.args, originals, strict=True):
        if not (isinstance(after, torch.Tensor) and after.shape == before.shape and torch.equal(after, before)):
            raise Mistake(MODIFIED_INPUTS, fr_en("{n} a changé pendant l'appel", "{n} changed during the call", n=name))
