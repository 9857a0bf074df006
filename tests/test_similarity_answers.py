"""Each student's own code per question, as the copy detector compares it: cells parsed, never run."""

from __future__ import annotations

from autograder.similarity.answers import answers
from autograder.similarity.compare import detect
from autograder.similarity.fingerprints import Alphabet, normalise

QUESTIONS = ["gather_last_relevant_hidden", "TASK_TYPES"]


def test_an_answer_is_its_last_definition_with_the_helpers_it_calls_and_no_docstring():
    cells = [
        "import torch\n%matplotlib inline\n!pip install foo\n",
        'def gather_last_relevant_hidden(hiddens, x_lengths):\n    """Given text."""\n    raise NotImplementedError()',
        "def _rows(n):\n    return torch.arange(n)\n\ndef _last(lengths):\n    return _rows(len(lengths))",
        "def gather_last_relevant_hidden(hiddens, x_lengths):\n"
        '    """Mon explication."""\n'
        "    idx = _last(x_lengths)\n"
        "    return hiddens[idx, torch.as_tensor(x_lengths) - 1]",
        "this cell does not parse (",
    ]
    found = answers(cells, QUESTIONS, given=["plot_losses"])
    answer = found["gather_last_relevant_hidden"]
    assert "NotImplementedError" not in answer.text
    assert "explication" not in answer.text
    assert answer.parts[1].startswith("def _last(lengths)")
    assert answer.parts[2].startswith("def _rows(n)")  # two levels deep
    assert "TASK_TYPES" not in found


def test_task_types_is_every_statement_that_builds_it_since_its_last_new_value():
    cells = [
        'TASK_TYPES = {"translation": "one-to-one"}',
        'TASK_TYPES = {}\nTASK_TYPES["translation"] = "many-to-many"',
        'TASK_TYPES.update(pos_tag_of_word="many-to-many")',
    ]
    parts = answers(cells, QUESTIONS)["TASK_TYPES"].parts
    assert parts == (
        "TASK_TYPES = {}",
        'TASK_TYPES["translation"] = "many-to-many"',
        'TASK_TYPES.update(pos_tag_of_word="many-to-many")',
    )


def test_cells_merged_split_or_reordered_give_the_same_answer():
    helper = "def _index(n):\n    return torch.arange(n)\n"
    function = "def gather_last_relevant_hidden(h, lengths):\n    return h[_index(len(lengths)), lengths - 1]\n"
    one = answers([helper + "\n" + function], QUESTIONS)
    other = answers([function, "x = 1", helper], QUESTIONS)
    assert one == other


def test_normalising_forgets_names_comments_strings_and_layout_but_keeps_the_apis():
    alphabet = Alphabet()
    first = normalise("def f(h, lengths):\n    # take the last\n    return torch.gather(h, 1, lengths - 1)\n", alphabet)
    second = normalise('def g(etats, L):\n    """doc"""\n\n    return torch.gather(etats,1,L-1)  # dernier\n', alphabet)
    third = normalise("def g(etats, L):\n    return torch.index_select(etats, 1, L - 1)\n", alphabet)
    assert first.normalised.replace(alphabet.letter("S"), "").replace(alphabet.letter(";"), "") == (
        second.normalised.replace(alphabet.letter("S"), "").replace(alphabet.letter(";"), "")
    )
    assert first.normalised != third.normalised  # gather is not index_select
    start, end = first.spans[-3]  # the last tokens: 1, ), the line end
    assert first.text[start:end] == "1"


def test_rare_shared_code_is_evidence_and_the_class_s_common_answer_is_not():
    common = "def gather_last_relevant_hidden(h, n):\n    return h[torch.arange(h.shape[0]), n - 1]\n"
    rare = (
        "def gather_last_relevant_hidden(h, n):\n"
        "    out = []\n"
        "    for row, length in enumerate(n.tolist()):\n"
        "        picked = h[row].narrow(0, length - 1, 1).squeeze(0)\n"
        "        out.append(picked.clone())\n"
        "    return torch.stack(out, dim=0).contiguous()\n"
    )
    mine = {f"s{i:02d}": {"gather_last_relevant_hidden": answers([common], QUESTIONS)[QUESTIONS[0]]} for i in range(20)}
    mine["copier"] = mine["original"] = {QUESTIONS[0]: answers([rare], QUESTIONS)[QUESTIONS[0]]}
    found = detect(mine, QUESTIONS, given=[], threshold=0.5)
    assert [(pair.first, pair.second) for pair in found.flagged] == [("copier", "original")]
    assert found.flagged[0].score == 1.0
    lit = found.side_by_side(found.flagged[0])[0].left
    assert "".join(text for text, shared in lit if shared).startswith("def gather_last_relevant_hidden")
    given = detect(mine, QUESTIONS, given=[rare], threshold=0.5)  # the same code given to everyone: no evidence
    assert given.flagged == ()


def test_three_students_sharing_rare_code_are_one_group():
    rare = (
        "def gather_last_relevant_hidden(h, n):\n"
        "    out = []\n"
        "    for row, length in enumerate(n.tolist()):\n"
        "        picked = h[row].narrow(0, length - 1, 1).squeeze(0)\n"
        "        out.append(picked.clone())\n"
        "    return torch.stack(out, dim=0).contiguous()\n"
    )
    common = "def gather_last_relevant_hidden(h, n):\n    return h[torch.arange(h.shape[0]), n - 1]\n"
    answer = {QUESTIONS[0]: answers([rare], QUESTIONS)[QUESTIONS[0]]}
    mine = {f"s{i:02d}": {QUESTIONS[0]: answers([common], QUESTIONS)[QUESTIONS[0]]} for i in range(27)}
    mine |= {"ana": answer, "bob": answer, "cleo": answer}
    found = detect(mine, QUESTIONS, given=[], threshold=0.5)
    assert found.cutoff == 3
    assert len(found.flagged) == 3
    assert found.clusters == [["ana", "bob", "cleo"]]
