"""bigru_final_states(out, hidden_size): h_n[-2] and h_n[-1] of a bidirectional GRU, read from its output (N, T, 2H)."""

import pytest
import torch
from torch import nn

from autograder.testing import Hint, Returns, Text, expect_close, remembered, seed_weights, title

# What the function returns, as students read it.
RETURNS = Returns(
    Text(
        "un tuple de deux tenseurs PyTorch (forward_last, backward_last), chacun de forme (N, H)",
        "a tuple of two PyTorch tensors (forward_last, backward_last), each of shape (N, H)",
    ),
    "tensors",
)

WRONG_STATES = Hint(
    "bigru_wrong_states",
    "Les deux états ne correspondent pas à h_n[-2] (direction avant) et h_n[-1] (direction arrière) : "
    "pour chaque direction, cherchez la moitié de out qui lui revient et le pas de temps où elle termine sa lecture.",
    "The two states do not match h_n[-2] (forward direction) and h_n[-1] (backward direction): for each "
    "direction, find the half of out that belongs to it and the time step where it finishes reading.",
)
DIRECTIONS_SWAPPED = Hint(
    "directions_swapped",
    "Les deux états sont dans le désordre : renvoyez d'abord la direction avant (h_n[-2]), "
    "puis la direction arrière (h_n[-1]).",
    "The two states are in the wrong order: return the forward direction first (h_n[-2]), then the backward "
    "direction (h_n[-1]).",
)
HALVES_SWAPPED = Hint(
    "halves_swapped",
    "Vous avez inversé les deux moitiés de out : les H premières composantes viennent de la direction avant, "
    "les H suivantes de la direction arrière.",
    "You swapped the two halves of out: the first H features come from the forward direction, the next H from "
    "the backward direction.",
)
BACKWARD_AT_LAST_STEP = Hint(
    "backward_read_at_last_step",
    "La direction arrière lit la séquence de droite à gauche : elle termine sa lecture au pas 0. "
    "Son état final est dans out[:, 0, H:], et non dans out[:, -1, H:].",
    "The backward direction reads the sequence from right to left: it finishes reading at step 0. Its final "
    "state is in out[:, 0, H:], not in out[:, -1, H:].",
)
FORWARD_AT_FIRST_STEP = Hint(
    "forward_read_at_first_step",
    "La direction avant lit la séquence de gauche à droite : son état final est au dernier pas, "
    "out[:, -1, :H], et non au pas 0.",
    "The forward direction reads the sequence from left to right: its final state is at the last step, out[:, "
    "-1, :H], not at step 0.",
)
STEPS_SWAPPED = Hint(
    "final_steps_swapped",
    "Vous lisez la direction avant au pas 0 et la direction arrière au dernier pas : c'est l'inverse. "
    "La direction avant termine au dernier pas, la direction arrière au pas 0.",
    "You read the forward direction at step 0 and the backward direction at the last step: it is the other way"
    " round. The forward direction finishes at the last step, the backward direction at step 0.",
)
STACKED = Hint(
    "returned_stacked_tensor",
    "Renvoyez un couple de deux tenseurs (N, H), (forward_last, backward_last), "
    "et non un seul tenseur empilé (2, N, H) comme h_n.",
    "Return a pair of two (N, H) tensors, (forward_last, backward_last), not a single stacked (2, N, H) tensor"
    " like h_n.",
)
CONCATENATED = Hint(
    "returned_concatenated_tensor",
    "Renvoyez un couple de deux tenseurs (N, H), (forward_last, backward_last), "
    "et non leur concaténation en un seul tenseur (N, 2H).",
    "Return a pair of two (N, H) tensors, (forward_last, backward_last), not their concatenation into a single"
    " (N, 2H) tensor.",
)


@remembered
def _run_bigru(seed, n, t, e, h, layers):
    """A seeded bidirectional, batch-first GRU run on full-length input: its last layer's out and h_n."""
    gen = torch.Generator().manual_seed(seed)
    gru = nn.GRU(e, h, num_layers=layers, batch_first=True, bidirectional=True)
    seed_weights(gru, generator=gen, scale=0.5)
    with torch.no_grad():
        out, h_n = gru(torch.randn(n, t, e, generator=gen))
    return out, h_n


def _mistakes(out, h):
    def at(step, half):
        return out[:, step, :h] if half == "forward" else out[:, step, h:]

    forward, backward = at(-1, "forward"), at(0, "backward")
    return {
        DIRECTIONS_SWAPPED: (backward, forward),
        HALVES_SWAPPED: (out[:, -1, h:], out[:, 0, :h]),
        BACKWARD_AT_LAST_STEP: (forward, at(-1, "backward")),
        FORWARD_AT_FIRST_STEP: (at(0, "forward"), backward),
        STEPS_SWAPPED: (at(0, "forward"), at(-1, "backward")),
        STACKED: torch.stack([forward, backward]),
        CONCATENATED: torch.cat([forward, backward], dim=-1),
    }


def _check(student, seed, n, t, e, h, layers):
    out, h_n = _run_bigru(seed, n, t, e, h, layers)
    got = student.bigru_final_states(out, h)
    if isinstance(got, list):  # a list of the two states is as good as a tuple
        got = tuple(got)
    expected = (h_n[-2], h_n[-1])
    # The pair first, without dtype (expect_close checks the dtype of a single tensor only), then each state's dtype.
    what = "(forward_last, backward_last)"
    expect_close(got, expected, WRONG_STATES, _mistakes(out, h), what=what, check_dtype=False)
    for name, state, reference in zip(("forward_last", "backward_last"), got, expected, strict=True):
        expect_close(state, reference, WRONG_STATES, what=name)


@pytest.mark.parametrize(
    ("seed", "n", "t", "e", "h", "layers"),
    [(0, 4, 7, 6, 8, 1), (1, 3, 5, 4, 6, 1), (2, 5, 6, 3, 5, 2), (3, 2, 9, 7, 4, 2), (4, 6, 4, 5, 7, 1)],
)
@title(
    "Les deux états égalent h_n[-2] et h_n[-1] d'un vrai GRU bidirectionnel à {layers} (N = {n}, T = {t}, H = {h}).",
    "The two states equal h_n[-2] and h_n[-1] of a real bidirectional GRU with {layers} (N = {n}, T = {t}, H = {h}).",
    layers={1: ("une couche", "one layer"), 2: ("deux couches", "two layers"), 3: ("trois couches", "three layers")},
)
def test_final_states_match_h_n(student, seed, n, t, e, h, layers):
    _check(student, seed, n, t, e, h, layers)


@title(
    "Une seule séquence dans le batch (N = 1), GRU à deux couches.",
    "A single sequence in the batch (N = 1), GRU with two layers.",
)
def test_single_sequence(student):
    _check(student, 5, 1, 6, 4, 5, 2)


@title(
    "Des séquences d'un seul pas (T = 1) : les deux directions finissent au même pas.",
    "Sequences of a single step (T = 1): both directions end at the same step.",
)
def test_single_step(student):
    _check(student, 6, 3, 1, 4, 6, 1)
