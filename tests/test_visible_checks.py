"""The visible checks teach: each one catches a typical mistake and its message names that mistake.

The checks and the imports cell run in-process against a namespace holding the solution's other
answers and one wrong answer; this is the repository's own code, not a student's.
"""

from __future__ import annotations

import contextlib
import io
import textwrap

import pytest
from conftest import CONTRACT, check_cells, nbgrader_meta, solution_cells

# question id -> (a typical wrong answer, words the failing check's message must contain)
MISTAKES = {
    "rnn_cell_forward": (
        """
        def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
            return x_t @ W_xh + h_prev @ W_hh + b_h
        """,
        "torch.tanh",
    ),
    "rnn_cell_loop": (
        """
        def rnn_cell_loop(rnn_cell, x_in, hidden=None):
            h0 = torch.zeros(x_in.shape[0], rnn_cell.hidden_size) if hidden is None else hidden
            return torch.stack([rnn_cell(x_in[:, t], h0) for t in range(x_in.shape[1])], dim=1)
        """,
        "réinjectez",
    ),
    "gather_last_relevant_hidden": (
        """
        def gather_last_relevant_hidden(hiddens, x_lengths):
            return hiddens[:, -1]
        """,
        "décalage d'indice",
    ),
    "classify_hidden": (
        """
        def classify_hidden(z, fc):
            return F.softmax(fc(z), dim=0)
        """,
        "pas sur le batch",
    ),
    "many_to_one_logits": (
        """
        def many_to_one_logits(rnn, fc, x_in, x_lengths):
            _, h_n = rnn(x_in)
            return fc(h_n[-1])
        """,
        "vous utilisez h_n",
    ),
    "packed_last_hidden": (
        """
        def packed_last_hidden(rnn, x_in, x_lengths):
            out, _ = rnn(x_in)
            return out[:, -1]
        """,
        "attendu l'état au pas",
    ),
    "TASK_TYPES": (
        """
        TASK_TYPES = {
            "pos_tag_of_word": "one to one",
            "generate_review": "one-to-many",
            "review_sentiment": "many-to-one",
            "translation": "many-to-many",
            "risk_at_each_step": "many-to-many",
        }
        """,
        "n'est pas l'une des chaînes",
    ),
    "hidden_gradient_norms": (
        """
        def hidden_gradient_norms(rnn_cell, x_in):
            h = torch.zeros(x_in.shape[0], rnn_cell.hidden_size)
            states = []
            for t in range(x_in.shape[1]):
                h = rnn_cell(x_in[:, t], h)
                h.retain_grad()
                states.append(h)
            states[-1].sum().backward()
            return torch.stack([s.grad.norm() for s in states])
        """,
        "torch.autograd.grad",
    ),
    "count_recurrent_parameters": (
        """
        def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
            blocks = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
            return num_layers * blocks * hidden_size * (input_size + hidden_size + 1)
        """,
        "nombre incorrect pour un RNN",
    ),
    "gru_output_shapes": (
        """
        def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
            d = 2 if bidirectional else 1
            return (batch_size, seq_size, d * hidden_size), (num_layers, batch_size, hidden_size)
        """,
        "h_n a la forme (4, 4, 8)",
    ),
    "bigru_final_states": (
        """
        def bigru_final_states(out, hidden_size):
            return out[:, -1, :hidden_size], out[:, -1, hidden_size:]
        """,
        "finit sa lecture au pas 0",
    ),
}


def namespace_with(solution_nb, wrong_answer: str) -> dict:
    """The imports and every solution, then one wrong answer in place of the right one."""
    namespace: dict = {}
    setup = next(c for c in solution_nb.cells if c.id == "imports")
    with contextlib.redirect_stdout(io.StringIO()):
        exec(setup.source, namespace)
        for cell in solution_cells(solution_nb):
            exec(cell.source, namespace)
        exec(textwrap.dedent(wrong_answer), namespace)
    return namespace


def run_check(solution_nb, question: str, namespace: dict) -> None:
    cell = next(c for c in check_cells(solution_nb) if nbgrader_meta(c)["grade_id"] == question)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(cell.source, namespace)


def test_every_question_has_a_typical_mistake():
    assert set(MISTAKES) == set(CONTRACT)


@pytest.mark.parametrize("question", sorted(MISTAKES))
def test_the_check_catches_the_typical_mistake_and_names_it(solution_nb, question):
    wrong_answer, hint = MISTAKES[question]
    with pytest.raises(AssertionError) as caught:
        run_check(solution_nb, question, namespace_with(solution_nb, wrong_answer))
    assert hint in str(caught.value)


@pytest.mark.parametrize("question", sorted(MISTAKES))
def test_the_check_passes_on_the_solution(solution_nb, question):
    run_check(solution_nb, question, namespace_with(solution_nb, ""))
