"""Write the bundled example submissions (examples/submissions/) from the student notebook.

    .venv/bin/python scripts/make_examples.py

Each example student fills the stubs of exercises/rnn_intro/rnn_intro.ipynb with their own code
(a correct class mate, several with the mistakes students really make, one who stopped early
with a syntax error), then the notebook is executed in a real Jupyter kernel, as a student would
before submitting, so the files carry outputs and error tracebacks. Two files show problems the
grader must report: a truncated notebook and a student folder holding two notebooks.
Re-run it after the exercise notebook changes; the test suite grades these files.
"""

from __future__ import annotations

import importlib.util
import random
import shutil
import textwrap
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
EXERCISE = REPO / "exercises" / "rnn_intro" / "rnn_intro.ipynb"
OUT = REPO / "examples" / "submissions"
WRONG_ANSWERS = REPO / "tests" / "wrong_answers"  # the typical mistakes, one file per question
STUB = "# VOTRE CODE ICI\nraise NotImplementedError()"

CORRECT = {
    "rnn_cell_forward": """
        return torch.tanh(torch.mm(x_t, W_xh) + torch.mm(h_prev, W_hh) + b_h)
    """,
    "rnn_cell_loop": """
        N, T, _ = x_in.shape
        h = hidden if hidden is not None else x_in.new_zeros(N, rnn_cell.hidden_size)
        outs = []
        for t in range(T):
            h = rnn_cell(x_in[:, t, :], h)
            outs.append(h)
        return torch.stack(outs, 1)
    """,
    "gather_last_relevant_hidden": """
        lengths = torch.tensor(x_lengths) if isinstance(x_lengths, list) else x_lengths.long()
        N, T, H = hiddens.shape
        if len(lengths) != N:
            raise ValueError("il faut une longueur par séquence")
        if (lengths < 1).any() or (lengths > T).any():
            raise ValueError("longueur hors de [1, T]")
        return hiddens[torch.arange(N), lengths - 1]
    """,
    "classify_hidden": """
        if z.dim() == 3:
            z = z.squeeze(0)
        return torch.softmax(fc(z), dim=1)
    """,
    "many_to_one_logits": """
        out, h_n = rnn(x_in)
        idx = torch.as_tensor(x_lengths) - 1
        last = out[torch.arange(out.size(0)), idx]
        return fc(last)
    """,
    "packed_last_hidden": """
        lengths = torch.as_tensor(x_lengths).cpu()
        packed = pack_padded_sequence(x_in, lengths, batch_first=True, enforce_sorted=False)
        _, h = rnn(packed)
        if isinstance(rnn, nn.LSTM):
            h = h[0]
        return h[-1]
    """,
    "TASK_TYPES": """
        TASK_TYPES = {
            "pos_tag_of_word": "one-to-one",
            "generate_review": "one-to-many",
            "review_sentiment": "many-to-one",
            "translation": "many-to-many",
            "risk_at_each_step": "many-to-many",
        }
    """,
    "hidden_gradient_norms": """
        N, T, _ = x_in.shape
        h = torch.zeros(N, rnn_cell.hidden_size, dtype=x_in.dtype)
        hs = []
        for t in range(T):
            h = rnn_cell(x_in[:, t], h)
            hs.append(h)
        grads = torch.autograd.grad(hs[-1].sum(), hs)
        return torch.stack([g.norm() for g in grads]).detach()
    """,
    "count_recurrent_parameters": """
        gates = {"rnn": 1, "gru": 3, "lstm": 4}
        if kind not in gates:
            raise ValueError(f"type de réseau inconnu : {kind}")
        d = 2 if bidirectional else 1
        total = 0
        for layer in range(num_layers):
            inp = input_size if layer == 0 else hidden_size * d
            total += d * gates[kind] * (hidden_size * inp + hidden_size * hidden_size + 2 * hidden_size)
        return total
    """,
    "gru_output_shapes": """
        d = 2 if bidirectional else 1
        return (batch_size, seq_size, d * hidden_size), (d * num_layers, batch_size, hidden_size)
    """,
    "bigru_final_states": """
        return out[:, -1, :hidden_size], out[:, 0, hidden_size:]
    """,
}

# Bruno: the lab's softmax axis, h_n read through the padding, one bias per gate block; he also
# left notebook magics and a shell escape in his notebook (added in main()).
BRUNO = {
    **CORRECT,
    "classify_hidden": """
        if z.dim() == 3:
            z = z[0]
        return F.softmax(fc(z), dim=0)
    """,
    "many_to_one_logits": """
        _, h_n = rnn(x_in)
        return fc(h_n[-1])
    """,
    "count_recurrent_parameters": """
        gates = {"rnn": 1, "gru": 3, "lstm": 4}
        if kind not in gates:
            raise ValueError(kind)
        d = 2 if bidirectional else 1
        total = 0
        for layer in range(num_layers):
            inp = input_size if layer == 0 else hidden_size * d
            total += d * gates[kind] * (hidden_size * inp + hidden_size * hidden_size + hidden_size)
        return total
    """,
}

# Chloé: an off-by-one on the lengths (and no checks), the two directions swapped, a risk
# predicted at every step taken for many-to-one, and the gradient norms listed from h_T back
# (through backward(), which also fills the cell's .grad).
CHLOE = {
    **CORRECT,
    "gather_last_relevant_hidden": """
        idx = torch.as_tensor(x_lengths)
        return hiddens[torch.arange(hiddens.shape[0]), idx]
    """,
    "bigru_final_states": """
        backward = out[:, 0, hidden_size:]
        forward = out[:, -1, :hidden_size]
        return backward, forward
    """,
    "TASK_TYPES": """
        TASK_TYPES = {
            "pos_tag_of_word": "one-to-one",
            "generate_review": "one-to-many",
            "review_sentiment": "many-to-one",
            "translation": "many-to-many",
            "risk_at_each_step": "many-to-one",
        }
    """,
    "hidden_gradient_norms": """
        N, T, _ = x_in.shape
        h = torch.zeros(N, rnn_cell.hidden_size)
        hs = []
        for t in range(T):
            h = rnn_cell(x_in[:, t], h)
            h.retain_grad()
            hs.append(h)
        hs[-1].sum().backward()
        return torch.stack([hh.grad.norm() for hh in reversed(hs)])
    """,
}

# David: the first three questions, then a syntax error in question 4; the rest untouched.
DAVID = {
    "rnn_cell_forward": CORRECT["rnn_cell_forward"],
    "rnn_cell_loop": CORRECT["rnn_cell_loop"],
    "gather_last_relevant_hidden": CORRECT["gather_last_relevant_hidden"],
    "classify_hidden": """
        if z.dim() == 3
            z = z[0]
        return torch.softmax(fc(z), dim=-1)
    """,
}


def fill(exercise: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(exercise)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        question = grade_id.removesuffix("_solution")
        if cell.cell_type != "code" or question == grade_id or question not in answers:
            continue
        assert "# VOTRE CODE ICI" in cell.source, grade_id
        body = textwrap.dedent(answers[question]).strip("\n")
        stub_line = next(line for line in cell.source.splitlines() if line.strip() == "# VOTRE CODE ICI")
        indent = stub_line[: len(stub_line) - len(stub_line.lstrip())]
        body = textwrap.indent(body, indent)
        cell.source = cell.source.replace(indent + STUB.replace("\n", "\n" + indent), body)
    return notebook


def mixed_class(folder: Path, count: int, seed: int = 7) -> list[str]:
    """A class of ``count`` notebooks ``student_NNN.ipynb`` in ``folder`` (not executed); their names.

    A quarter right everywhere; the others with one to three of the typical mistakes of
    tests/wrong_answers/, and one in eight of them stopped early (the last questions left as stubs).
    The same ``seed`` gives the same class. Used by the benchmarks and by the tests that compare graders.
    """
    mistakes = []
    for path in sorted(WRONG_ANSWERS.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"wrong_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        mistakes += [(path.stem, code) for code in module.WRONG_ANSWERS.values()]
    exercise = nbformat.read(EXERCISE, as_version=4)
    questions = list(CORRECT)
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    students = []
    for number in range(count):
        answers = dict(CORRECT)
        wrong: dict[str, str] = {}
        if number % 4:  # three students in four make mistakes
            for question, code in rng.sample(mistakes, rng.randint(1, 3)):
                wrong[question] = code
            if number % 8 == 3:  # and some stop before the end: the last questions stay stubs
                for question in questions[rng.randint(6, len(questions) - 1) :]:
                    answers.pop(question)
                    wrong.pop(question, None)
        notebook = fill(exercise, answers)
        for cell in notebook.cells:  # a wrong answer redefines the function at the end of its cell
            question = cell.metadata.get("nbgrader", {}).get("grade_id", "").removesuffix("_solution")
            if question in wrong:
                cell.source += "\n\n" + wrong[question].strip("\n") + "\n"
        student = f"student_{number:03d}"
        nbformat.write(notebook, folder / f"{student}.ipynb")
        students.append(student)
    return students


def executed(notebook: nbformat.NotebookNode, workdir: Path) -> nbformat.NotebookNode:
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        allow_errors=True,
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    return notebook


def main() -> None:
    exercise = nbformat.read(EXERCISE, as_version=4)
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    work = OUT.parent / ".work"
    work.mkdir(exist_ok=True)
    alice = executed(fill(exercise, CORRECT), work)
    nbformat.write(alice, OUT / "alice_martin.ipynb")

    bruno = fill(exercise, BRUNO)
    # A shell escape in the imports cell, as students paste from a tutorial.
    bruno.cells[2].source = "!nvidia-smi\n%matplotlib inline\n" + bruno.cells[2].source
    loop_cell = next(c for c in bruno.cells if c.get("id") == "rnn_cell_loop_solution")
    loop_cell.source = "%%time\n" + loop_cell.source  # a cell magic: its body must still run
    bruno = executed(bruno, work)
    folder = OUT / "bruno_dupont"
    (folder / ".ipynb_checkpoints").mkdir(parents=True)
    nbformat.write(bruno, folder / "rnn_intro.ipynb")
    nbformat.write(exercise, folder / ".ipynb_checkpoints" / "rnn_intro-checkpoint.ipynb")

    chloe = executed(fill(exercise, CHLOE), work)
    nested = OUT / "chloe_bernard" / "rnn_intro"  # nbgrader's submitted/<student>/<assignment>/ layout
    nested.mkdir(parents=True)
    nbformat.write(chloe, nested / "rnn_intro.ipynb")
    (nested / "timestamp.txt").write_text("2026-11-20 17:42:03.000000 UTC\n")

    david = executed(fill(exercise, DAVID), work)
    nbformat.write(david, OUT / "david_petit.ipynb")

    # Emma's upload was cut short: the file ends in the middle of the JSON.
    text = nbformat.writes(alice)
    (OUT / "emma_leroy.ipynb").write_text(text[: len(text) // 3])

    # Farid saved a copy beside his notebook: two notebooks, none picked behind his back.
    farid = OUT / "farid_haddad"
    farid.mkdir()
    nbformat.write(alice, farid / "rnn_intro.ipynb")
    nbformat.write(exercise, farid / "rnn_intro-Copy1.ipynb")
    shutil.rmtree(work)
    print(f"wrote {sorted(p.name for p in OUT.iterdir())} in {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
