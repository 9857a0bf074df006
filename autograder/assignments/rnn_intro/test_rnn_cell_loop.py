"""rnn_cell_loop(rnn_cell, x_in, hidden=None): every hidden state (N, T, H), against nn.RNN with the cell's weights."""

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
    seed_weights,
    title,
)

# What the function returns, as students read it.
RETURNS = Returns(
    Text(
        "un tenseur PyTorch de forme (N, T, H), tous les états cachés",
        "a PyTorch tensor of shape (N, T, H), every hidden state",
    ),
    "tensor",
)

WRONG_VALUES = Hint(
    "loop_wrong_values",
    "Les états ne correspondent pas à ceux de nn.RNN avec les mêmes poids : à chaque pas t, appelez la cellule "
    "sur x_in[:, t] et sur l'état produit au pas précédent, et gardez chaque nouvel état.",
    "The states do not match those of nn.RNN with the same weights: at each step t, call the cell on x_in[:, "
    "t] and on the state produced at the previous step, and keep every new state.",
)
TIME_FIRST = Hint(
    "stacked_time_first",
    "Vos états sont empilés sur le premier axe, forme (T, N, H) : le résultat doit être batch d'abord, (N, T, H). "
    "Utilisez torch.stack(..., dim=1).",
    "Your states are stacked on the first axis, shape (T, N, H): the result must be batch first, (N, T, H). "
    "Use torch.stack(..., dim=1).",
)
LAST_STATE_ONLY = Hint(
    "returned_last_state_only",
    "Vous ne renvoyez que le dernier état h_T : il faut renvoyer tous les états h_1, ..., h_T, de forme (N, T, H).",
    "You return only the last state h_T: you must return all the states h_1, ..., h_T, of shape (N, T, H).",
)
INCLUDED_INITIAL_STATE = Hint(
    "included_initial_state",
    "Vous gardez l'état initial h_0 parmi les états renvoyés : le résultat contient h_1, ..., h_T, "
    "les états produits par la cellule, et rien d'autre.",
    "You keep the initial state h_0 among the returned states: the result holds h_1, ..., h_T, the states the "
    "cell produced, and nothing else.",
)
STATE_NOT_FED_BACK = Hint(
    "state_not_fed_back",
    "Chaque pas repart de l'état initial : réinjectez dans la cellule l'état qu'elle vient de produire "
    "(hidden = rnn_cell(x_in[:, t], hidden)).",
    "Each step starts again from the initial state: feed back into the cell the state it has just produced "
    "(hidden = rnn_cell(x_in[:, t], hidden)).",
)
IGNORED_HIDDEN = Hint(
    "ignored_initial_hidden",
    "L'argument `hidden` est ignoré : quand il est donné, c'est lui l'état initial ; "
    "les zéros ne servent que lorsque hidden vaut None.",
    "The `hidden` argument is ignored: when it is given, it is the initial state; the zeros are only for when "
    "hidden is None.",
)
DEFAULT_DTYPE = Hint(
    "default_hidden_dtype",
    "Avec une cellule et des entrées en float64, votre état initial par défaut n'a pas le bon type : créez les zéros "
    "avec le dtype (et le device) de x_in, par exemple torch.zeros(N, H, dtype=x_in.dtype, device=x_in.device).",
    "With a cell and inputs in float64, your default initial state has the wrong type: create the zeros with "
    "the dtype (and device) of x_in, for example torch.zeros(N, H, dtype=x_in.dtype, device=x_in.device).",
)
MODIFIED_INPUT = Hint(
    "modified_x_in",
    "Votre fonction modifie x_in ou hidden (une opération sur place, comme transpose_ ou +=) : "
    "les arguments doivent ressortir inchangés ; travaillez sur de nouveaux tenseurs.",
    "Your function modifies x_in or hidden (an in-place operation, such as transpose_ or +=): the arguments "
    "must come out unchanged; work on new tensors.",
)


def _cell(seed, e, h, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    cell = nn.RNNCell(e, h, dtype=dtype)
    seed_weights(cell, generator=gen, scale=0.5)
    return cell, gen


def _case(seed, n, t, e, h, dtype=torch.float32, with_hidden=False):
    cell, gen = _cell(seed, e, h, dtype)
    x_in = torch.randn(n, t, e, generator=gen, dtype=dtype)
    hidden = torch.randn(n, h, generator=gen, dtype=dtype) if with_hidden else None
    return cell, x_in, hidden


def _run_rnn(cell, x_in, hidden=None):
    """nn.RNN(batch_first=True) with the cell's weights: all its outputs (N, T, H)."""
    rnn = nn.RNN(cell.input_size, cell.hidden_size, batch_first=True, dtype=x_in.dtype)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(rnn, name + "_l0").copy_(getattr(cell, name))
        out, _ = rnn(x_in, None if hidden is None else hidden.unsqueeze(0))
    return out


@remembered
def _expected_and_mistakes(cell, x_in, hidden):
    expected = _run_rnn(cell, x_in, hidden)
    start = torch.zeros(x_in.shape[0], cell.hidden_size, dtype=x_in.dtype) if hidden is None else hidden
    from_start = torch.cat([_run_rnn(cell, x_in[:, t : t + 1], hidden) for t in range(x_in.shape[1])], dim=1)
    with_start = torch.cat([start.unsqueeze(1), expected], dim=1)
    mistakes = {
        TIME_FIRST: expected.transpose(0, 1),
        LAST_STATE_ONLY: expected[:, -1],
        INCLUDED_INITIAL_STATE: with_start,
        STATE_NOT_FED_BACK: from_start if x_in.shape[1] > 1 else None,
        IGNORED_HIDDEN: _run_rnn(cell, x_in) if hidden is not None else None,
    }
    return expected, mistakes, with_start


def _check(got, cell, x_in, hidden):
    expected, mistakes, with_start = _expected_and_mistakes(cell, x_in, hidden)
    if isinstance(got, torch.Tensor) and got.shape == expected.shape:
        # Same shape as expected: h_0, ..., h_{T-1} instead of h_1, ..., h_T.
        mistakes[INCLUDED_INITIAL_STATE] = with_start[:, :-1]
    expect_close(got, expected, WRONG_VALUES, mistakes, what=fr_en("les états cachés", "the hidden states"))


@pytest.mark.parametrize(("seed", "n", "t", "e", "h"), [(0, 3, 5, 4, 6), (1, 5, 2, 3, 4), (2, 2, 7, 6, 3)])
@title(
    "Sans `hidden` (état initial nul), N = {n}, T = {t}, E = {e}, H = {h} : mêmes états que nn.RNN avec "
    "les poids de la cellule, forme (N, T, H).",
    "Without `hidden` (zero initial state), N = {n}, T = {t}, E = {e}, H = {h}: the same states as "
    "nn.RNN with the cell's weights, shape (N, T, H).",
)
def test_without_hidden(student, seed, n, t, e, h):
    cell, x_in, _ = _case(seed, n, t, e, h)
    got = student.rnn_cell_loop(cell, x_in)
    _check(got, cell, x_in, None)


@pytest.mark.parametrize(("seed", "n", "t", "e", "h"), [(3, 4, 6, 5, 3), (4, 2, 3, 4, 5)])
@title(
    "Avec un état initial `hidden` donné, N = {n}, T = {t} : la boucle part de cet état.",
    "With a given initial state `hidden`, N = {n}, T = {t}: the loop starts from that state.",
)
def test_with_hidden(student, seed, n, t, e, h):
    cell, x_in, hidden = _case(seed, n, t, e, h, with_hidden=True)
    got = student.rnn_cell_loop(cell, x_in, hidden)
    _check(got, cell, x_in, hidden)


@title(
    "Une séquence d'un seul pas (T = 1) : le résultat a la forme (N, 1, H).",
    "A sequence of a single step (T = 1): the result has shape (N, 1, H).",
)
def test_single_step(student):
    cell, x_in, hidden = _case(5, 3, 1, 4, 5, with_hidden=True)
    got = student.rnn_cell_loop(cell, x_in, hidden)
    _check(got, cell, x_in, hidden)


@title(
    "Cellule et entrées en float64, sans `hidden` : l'état initial nul prend le dtype de x_in.",
    "Cell and inputs in float64, without `hidden`: the zero initial state takes x_in's dtype.",
)
def test_float64(student):
    cell, x_in, _ = _case(6, 3, 4, 5, 4, dtype=torch.float64)
    with hints_for_errors({"RuntimeError": DEFAULT_DTYPE}):
        got = student.rnn_cell_loop(cell, x_in)
    _check(got, cell, x_in, None)


@title("x_in et hidden ressortent inchangés de l'appel.", "x_in and hidden come out of the call unchanged.")
def test_arguments_unchanged(student):
    cell, x_in, hidden = _case(7, 3, 5, 4, 6, with_hidden=True)
    x_before, hidden_before = x_in.clone(), hidden.clone()
    call = student.rnn_cell_loop.keeping_arguments(cell, x_in, hidden)
    expected, mistakes, _ = _expected_and_mistakes(cell, x_before, hidden_before)
    expect_answered(call, expected, WRONG_VALUES, mistakes, what=fr_en("les états cachés", "the hidden states"))
    for name, after, before in (("x_in", call.args[1], x_before), ("hidden", call.args[2], hidden_before)):
        if not (isinstance(after, torch.Tensor) and after.shape == before.shape and torch.equal(after, before)):
            raise Mistake(MODIFIED_INPUT, fr_en("{n} a changé pendant l'appel", "{n} changed during the call", n=name))
