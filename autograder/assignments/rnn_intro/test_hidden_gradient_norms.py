"""hidden_gradient_norms(rnn_cell, x_in): the norm of d loss / d h_t for loss = h_T.sum(), t = 1..T, shape (T,)."""

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
    seed_weights,
    title,
)

# What the function returns, as students read it.
RETURNS = Returns(Text("un tenseur PyTorch de forme (T,)", "a PyTorch tensor of shape (T,)"), "tensor")

WRONG_NORMS = Hint(
    "gradient_norms_wrong",
    "Les normes ne correspondent pas à celles de d loss / d h_t pour loss = h_T.sum() : déroulez la cellule "
    "depuis un état nul en gardant h_1, ..., h_T, puis utilisez torch.autograd.grad(loss, [h_1, ..., h_T]).",
    "The norms do not match those of d loss / d h_t for loss = h_T.sum(): unroll the cell from a zero state "
    "keeping h_1, ..., h_T, then use torch.autograd.grad(loss, [h_1, ..., h_T]).",
)
REVERSED = Hint(
    "norms_reversed",
    "Vos normes sont dans l'ordre inverse : l'entrée t correspond à h_t, la première à h_1 et la dernière à h_T "
    "(qui vaut sqrt(N × H), puisque d loss / d h_T vaut 1 partout).",
    "Your norms are in reverse order: entry t is for h_t, the first for h_1 and the last for h_T (which is "
    "sqrt(N × H), since d loss / d h_T is 1 everywhere).",
)
INCLUDES_H0 = Hint(
    "includes_h0",
    "Vous renvoyez T + 1 normes : l'état initial h_0 ne compte pas, gardez seulement h_1, ..., h_T.",
    "You return T + 1 norms: the initial state h_0 does not count, keep only h_1, ..., h_T.",
)
PER_SEQUENCE = Hint(
    "norms_per_sequence",
    "Vous calculez une norme par séquence du batch : la norme porte sur tout le gradient (N, H) d'un pas, "
    "batch compris, et donne un seul nombre par pas de temps (résultat de forme (T,)).",
    "You compute one norm per sequence of the batch: the norm covers the whole (N, H) gradient of a step, "
    "batch included, and gives a single number per time step (a result of shape (T,)).",
)
NORM_OF_STATES = Hint(
    "norm_of_states",
    "Vous renvoyez la norme des états h_t eux-mêmes : il faut la norme de leur gradient, d loss / d h_t.",
    "You return the norm of the states h_t themselves: you need the norm of their gradient, d loss / d h_t.",
)
GRAD_WRT_INPUTS = Hint(
    "gradient_wrt_inputs",
    "Vous dérivez par rapport aux entrées x_t : il faut le gradient par rapport aux états cachés h_t.",
    "You differentiate with respect to the inputs x_t: you need the gradient with respect to the hidden states h_t.",
)
MEAN_LOSS = Hint(
    "loss_mean_not_sum",
    "La perte est loss = h_T.sum(), et non h_T.mean() : avec la moyenne, tous les gradients sont divisés par N × H.",
    "The loss is loss = h_T.sum(), not h_T.mean(): with the mean, every gradient is divided by N × H.",
)
GRAPH_BROKEN = Hint(
    "autograd_graph_broken",
    "Votre fonction a levé une RuntimeError d'autograd : chaque h_t doit rester dans le graphe de calcul "
    "(pas de detach, de .data ni de torch.no_grad() dans la boucle), et la perte doit être calculée à partir "
    "de ces mêmes h_t, une seule fois, après la boucle.",
    "Your function raised an autograd RuntimeError: each h_t must stay in the computation graph (no detach, "
    ".data or torch.no_grad() in the loop), and the loss must be computed from those same h_t, once, after the"
    " loop.",
)
FILLED_CELL_GRADS = Hint(
    "filled_cell_grads",
    "Votre fonction remplit les .grad des poids de la cellule (loss.backward() les accumule) : "
    "dans une boucle d'entraînement, ces gradients s'ajouteraient à ceux du vrai pas d'apprentissage. "
    "Utilisez torch.autograd.grad(loss, [h_1, ..., h_T]), qui renvoie les gradients sans rien accumuler.",
    "Your function fills the .grad of the cell's weights (loss.backward() accumulates them): in a training "
    "loop, these gradients would add up with those of the real learning step. Use torch.autograd.grad(loss, "
    "[h_1, ..., h_T]), which returns the gradients without accumulating anything.",
)
MODIFIED_INPUT = Hint(
    "gradient_norms_modified_input",
    "Votre fonction modifie x_in (opération en place comme transpose_, mul_ ou une affectation x_in[...] = ...) : "
    "travaillez sur de nouveaux tenseurs, sans toucher à l'argument.",
    "Your function modifies x_in (an in-place operation such as transpose_, mul_ or an assignment x_in[...] = "
    "...): work on new tensors without touching the argument.",
)


def _case(seed, n, t, e, h, scale=0.5):
    """A seeded nn.RNNCell(E, H) and an input (N, T, E)."""
    gen = torch.Generator().manual_seed(seed)
    cell = nn.RNNCell(e, h)
    seed_weights(cell, generator=gen, scale=scale)
    x = torch.randn(n, t, e, generator=gen)
    return cell, x


def _reference(cell, x):
    """Autograd on the loop from a zero state: the expected norms and what typical mistakes return."""
    n, t = x.shape[0], x.shape[1]
    h_0 = torch.zeros(n, cell.hidden_size, requires_grad=True)
    x = x.clone().requires_grad_(True)
    states, hidden = [], h_0
    for step in range(t):
        hidden = cell(x[:, step], hidden)
        hidden.retain_grad()
        states.append(hidden)
    states[-1].sum().backward()
    assert h_0.grad is not None  # a leaf of the graph: backward() filled it
    norms = torch.stack([s.grad.norm() for s in states])
    per_sequence = torch.stack([s.grad.norm(dim=1) for s in states])  # (T, N)
    variants = [
        (REVERSED, norms.flip(0)),
        (INCLUDES_H0, torch.cat([h_0.grad.norm().reshape(1), norms])),
        (PER_SEQUENCE, per_sequence),
        (PER_SEQUENCE, per_sequence.T),
        (NORM_OF_STATES, torch.stack([s.detach().norm() for s in states])),
        (GRAD_WRT_INPUTS, x.grad.norm(dim=(0, 2))),
        (MEAN_LOSS, norms / states[-1].numel()),
    ]
    return norms, variants


def _mistakes(got, variants):
    """One value per hint for expect_close: of a hint's variants, the one shaped like ``got`` if any."""
    chosen = {}
    for hint, value in variants:
        if hint not in chosen or (isinstance(got, torch.Tensor) and got.shape == value.shape):
            chosen[hint] = value
    return chosen


def _call(student, cell, x):
    with hints_for_errors({"RuntimeError": GRAPH_BROKEN}):
        return student.hidden_gradient_norms.keeping_arguments(cell, x)


def _check(student, cell, x):
    call = _call(student, cell, x)
    if call.refused is not None:
        raise call.refused
    expected, variants = _reference(cell, x)
    expect_close(
        call.value, expected, WRONG_NORMS, _mistakes(call.value, variants), what=fr_en("normes", "norms"), rtol=1e-4
    )
    return call


def _answered(student, cell, x):
    """For the tests of what the call leaves behind: the call, once its result is an answer (right or wrong)."""
    call = _call(student, cell, x)
    expected, variants = _reference(cell, x)
    expect_answered(call, expected, WRONG_NORMS, _mistakes(call.value, variants), what=fr_en("normes", "norms"))
    return call


@pytest.mark.parametrize(
    ("seed", "n", "t", "e", "h"),
    [(0, 3, 5, 4, 6), (1, 2, 8, 3, 5), (2, 4, 6, 2, 7)],
)
@title(
    "La norme de d loss / d h_t pour chaque pas t, de h_1 à h_T, avec N = {n} et T = {t} (forme (T,)).",
    "The norm of d loss / d h_t for each step t, from h_1 to h_T, with N = {n} and T = {t} (shape (T,)).",
)
def test_gradient_norms(student, seed, n, t, e, h):
    cell, x = _case(seed, n, t, e, h)
    _check(student, cell, x)


@title(
    "Une séquence d'un seul pas (T = 1) : une seule norme, celle de d loss / d h_1, qui vaut sqrt(N × H).",
    "A sequence of a single step (T = 1): a single norm, that of d loss / d h_1, which is sqrt(N × H).",
)
def test_single_step(student):
    cell, x = _case(3, 3, 1, 4, 5)
    _check(student, cell, x)


@title(
    "Un batch d'une seule séquence (N = 1) : une norme par pas.",
    "A batch of a single sequence (N = 1): one norm per step.",
)
def test_single_sequence(student):
    cell, x = _case(4, 1, 6, 3, 4)
    _check(student, cell, x)


@title(
    "Une longue séquence avec de petits poids : le gradient s'évanouit vers les premiers pas.",
    "A long sequence with small weights: the gradient vanishes towards the first steps.",
)
def test_long_sequence_with_small_weights(student):
    cell, x = _case(5, 3, 20, 4, 6, scale=0.2)
    _check(student, cell, x)


@title("La fonction ne modifie pas x_in.", "The function does not modify x_in.")
def test_input_left_unchanged(student):
    cell, x = _case(6, 2, 7, 5, 3)
    after = _answered(student, cell, x).args[1]
    if not (isinstance(after, torch.Tensor) and after.shape == x.shape and torch.equal(after, x)):
        raise Mistake(
            MODIFIED_INPUT,
            fr_en(
                "x_in n'a plus, après l'appel, les valeurs ou la forme qu'il avait avant",
                "after the call, x_in no longer has the values or the shape it had before",
            ),
        )


@title(
    "Les .grad des poids de la cellule restent vides : la fonction mesure, elle n'entraîne pas.",
    "The .grad of the cell's weights stay empty: the function measures, it does not train.",
)
def test_cell_gradients_left_empty(student):
    cell, x = _case(7, 2, 5, 3, 4)
    after = _answered(student, cell, x).args[0]
    filled = [name for name, param in after.named_parameters() if param.grad is not None]
    if filled:
        raise Mistake(
            FILLED_CELL_GRADS,
            fr_en(
                "après l'appel, {g} ont un .grad rempli", "after the call, {g} have a filled .grad", g=", ".join(filled)
            ),
        )
