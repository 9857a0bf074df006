"""A realistic class of student notebooks with planted copies, to test copy (plagiarism) detection.

    from similarity_class import make_class
    planted = make_class(tmp_path / "class", seed=11)

How the class is made:

- Each of the 11 questions has a generator below (``_q_<question>``) that composes an answer from
  independent sub-choices: the algorithm or torch calls (a loop or vectorised code, ``torch.gather``,
  advanced indexing or a Python loop, ``F.softmax``, ``torch.softmax`` or exp/sum, packing with or
  without sorting by hand, the parameter count by a loop, a closed formula or a helper...), and inside
  it how lengths become a tensor, how the batch index is built, whether shapes are unpacked first,
  how inputs are checked, intermediate variables or not, helper functions or not. Wrong answers take
  the typical mistakes of tests/wrong_answers/ and apply them to such a composed answer. So the
  versions of a question differ in STRUCTURE, not only in names: a copy detector normalises names,
  comments, whitespace and strings away, and independent students must still look independent.
- The code is written as templates: ``$role`` placeholders for every local name and helper function
  (filled from the student's naming style: English or French, short or long, mixed per name),
  ``#% français | English`` comment lines (kept, in the student's language, with the student's
  density, or dropped), and ``#{`` / ``#|`` / ``#}`` regions of independent statements that a
  reordering copier may swap.
- ``INDEPENDENT`` (36) students each get a naming and comment style, blank-line habits, sometimes
  extra cells (quick prints, notes), some wrong answers (about one question in seven) and, for some,
  the last questions left as the stub. Independent students are drawn again, question by question,
  until no two of them wrote the same normalised function for more than one of the long questions.
- Planted copies, each of a different independent student: "verbatim" (the file byte for byte),
  "renamed" (the same answers rendered with another name for every local variable and helper),
  "commented_reordered" (comments added and changed, helpers moved after the function, independent
  statements swapped, two answers moved into an earlier cell with a note left in theirs, a cell
  split) and "partial" (the cells of 3 long questions taken from the original, the 8 others its own).
- Two "one_liners" students answer rnn_cell_forward, classify_hidden, gru_output_shapes and
  bigru_final_states exactly as the reference solution does; every other answer of theirs differs
  from the other's.
- As in a real class, the short questions' usual answers are common: about a third of the other
  students write one of them (the reference solution's, or ``CORRECT``'s of scripts/make_examples.py)
  instead of an answer of their own.

Everything an answer is meant to be (right, wrong, stub) is in ``plan(seed)``; a correct answer gets the
question's full points from the real grader and a wrong one less (checked by grading a generated class).
Notebooks are the exercise notebook filled in, not executed. No torch needed; the class takes well under
a second to write.
"""

from __future__ import annotations

import ast
import random
import re
import string
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
EXERCISE = REPO / "exercises" / "rnn_intro" / "rnn_intro.ipynb"
STUB = "# VOTRE CODE ICI\nraise NotImplementedError()"

QUESTIONS = (
    "rnn_cell_forward",
    "rnn_cell_loop",
    "gather_last_relevant_hidden",
    "classify_hidden",
    "many_to_one_logits",
    "packed_last_hidden",
    "TASK_TYPES",
    "hidden_gradient_norms",
    "count_recurrent_parameters",
    "gru_output_shapes",
    "bigru_final_states",
)  # notebook order
LONG = (
    "rnn_cell_loop",
    "gather_last_relevant_hidden",
    "many_to_one_logits",
    "packed_last_hidden",
    "hidden_gradient_norms",
    "count_recurrent_parameters",
)
ONE_LINER_QUESTIONS = ("rnn_cell_forward", "classify_hidden", "gru_output_shapes", "bigru_final_states")
INDEPENDENT = 36


@dataclass(frozen=True)
class TestClass:
    __test__ = False  # not a pytest class

    folder: Path
    independent: list[str]  # student ids (file stems) of the independent students
    copies: dict[str, tuple[str, str]]  # copier id -> (original id, kind)
    partial_questions: tuple[str, ...]  # the 3 questions the "partial" copier copied
    one_liners: tuple[str, str]  # both wrote the reference one-liners and nothing else in common


def _reference_answers() -> dict[str, str]:
    """``CORRECT`` of scripts/make_examples.py, read without running the script (it imports nbclient)."""
    tree = ast.parse((REPO / "scripts" / "make_examples.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "CORRECT" for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError("CORRECT not found in scripts/make_examples.py")


def _solution_answers() -> dict[str, str]:
    """The reference solution's own answers: each solution cell's code between its solution markers."""
    solution = nbformat.read(REPO / "solutions" / "rnn_intro" / "rnn_intro.ipynb", as_version=4)
    found = {}
    for cell in solution.cells:
        question = _cell_question(cell)
        match = re.search(r"### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION", cell.source, re.S | re.M)
        if question and match:
            found[question] = textwrap.dedent(match.group(1)).strip("\n")
    return found


# -- names -----------------------------------------------------------------------------------------

# role -> one name per naming style: English short, English long, French long, French short, "maths".
NAMES: dict[str, tuple[str, str, str, str, str]] = {
    "n": ("N", "n_batch", "taille_batch", "nb", "n"),
    "t": ("T", "n_steps", "nb_pas", "nt", "t_max"),
    "hs": ("H", "hidden_dim", "dim_cachee", "dh", "h_dim"),
    "lens": ("lens", "lengths", "longueurs", "lg", "ell"),
    "idx": ("idx", "last_index", "indices_fin", "ind", "k"),
    "rows": ("rows", "batch_index", "lignes", "li", "i_rows"),
    "states": ("hs", "all_states", "etats", "liste_h", "hh"),
    "state": ("h", "current_state", "etat", "ht", "s"),
    "step": ("t", "step", "pas", "it", "j"),
    "xt": ("xt", "current_input", "entree", "x_pas", "u"),
    "out": ("out", "outputs", "sorties", "o", "y"),
    "last": ("last", "last_outputs", "derniers", "dern", "z_last"),
    "res": ("res", "result", "resultat", "r", "ret"),
    "d": ("D", "num_directions", "nb_directions", "nd", "d"),
    "total": ("total", "n_params", "nb_parametres", "tot", "p"),
    "gates": ("gates", "blocks", "nb_blocs", "nbl", "m"),
    "gv": ("n_gates", "gate_count", "nb_portes", "ng", "kappa"),
    "layer": ("layer", "layer_index", "couche", "c", "l"),
    "inp": ("inp", "layer_input", "entree_couche", "e_in", "q"),
    "grads": ("grads", "gradients", "gradients_h", "gr", "dh_list"),
    "gr": ("g", "grad", "gradient", "gg", "dg"),
    "loss": ("loss", "loss_value", "perte", "pe", "lo"),
    "norms": ("norms", "grad_norms", "normes", "nrm", "nu"),
    "packed": ("packed", "packed_input", "paquet", "pk", "pp"),
    "final": ("final", "final_state", "etat_final", "ef", "hf"),
    "order": ("order", "sort_order", "ordre", "od", "perm"),
    "inv": ("inv", "inverse_order", "ordre_inverse", "oi", "perm_inv"),
    "slens": ("slens", "sorted_lengths", "longueurs_triees", "lt", "ell_s"),
    "fwd": ("fwd", "forward_last", "avant", "av", "f"),
    "bwd": ("bwd", "backward_last", "arriere", "ar", "b_"),
    "logits": ("scores", "raw_scores", "scores_bruts", "sc", "a"),
    "probs": ("probs", "probabilities", "probas", "pr", "pi"),
    "b": ("b", "seq_idx", "i_seq", "ib", "i"),
    "ln": ("ln", "length", "longueur", "lo_b", "ell_b"),
    "mask": ("mask", "one_hot_mask", "masque", "ms", "mu"),
    "w": ("w", "weights", "poids", "pw", "omega"),
    "bias": ("bias", "biases", "biais", "bi", "beta"),
    "pre": ("pre", "pre_activation", "avant_tanh", "za", "v"),
    "ax": ("ax", "input_part", "partie_entree", "pxe", "v1"),
    "ah": ("ah", "hidden_part", "partie_cachee", "pxh", "v2"),
    "ex": ("ex", "exps", "exponentielles", "ep", "w_exp"),
    "oshape": ("out_shape", "output_shape", "forme_out", "f_out", "s_out"),
    "hshape": ("hn_shape", "h_n_shape", "forme_hn", "f_hn", "s_hn"),
    "feat": ("feat", "out_features", "nb_sorties", "ns", "k_out"),
    "table": ("table", "task_table", "taches", "tch", "tt"),
    "fams": ("fams", "families", "familles", "fam", "ff"),
    "keys": ("keys_", "task_names", "noms_taches", "cles", "kk"),
    "first": ("first", "first_layer", "premiere", "p1", "n1"),
    "rest": ("rest", "other_layers", "autres", "p2", "n2"),
    "per": ("per", "per_direction", "par_direction", "pd", "rho"),
    "fwd_all": ("fwd_all", "forward_half", "moitie_avant", "mav", "u_f"),
    "bwd_all": ("bwd_all", "backward_half", "moitie_arriere", "mar", "u_b"),
    "seqs": ("seqs", "sequences", "seqs_reelles", "sq", "sig"),
    "cur": ("cur", "upstream", "courant", "cr", "gam"),
    "fn_lens": ("to_lengths", "lengths_tensor", "vers_tenseur", "conv_lg", "as_len"),
    "fn_check": ("check_lengths", "validate_lengths", "verifier_longueurs", "verif", "chk"),
    "fn_layer": ("layer_params", "params_per_layer", "params_couche", "pcouche", "nu_layer"),
    "fn_unroll": ("unroll", "run_cell", "derouler", "der", "roll"),
    "fn_dirs": ("n_dirs", "directions_of", "nb_dir", "ndir", "delta"),
    "fn_last": ("pick_last", "select_last", "prendre_dernier", "pdern", "sel"),
    "fn_soft": ("softmax_rows", "row_softmax", "softmax_lignes", "smx", "sigma"),
}
RESERVED = {
    "x_t",
    "h_prev",
    "W_xh",
    "W_hh",
    "b_h",
    "rnn_cell",
    "x_in",
    "hidden",
    "hiddens",
    "x_lengths",
    "z",
    "fc",
    "rnn",
    "out_",
    "hidden_size",
    "kind",
    "input_size",
    "num_layers",
    "bidirectional",
    "batch_size",
    "seq_size",
    "torch",
    "nn",
    "F",
    "math",
    "len",
    "range",
    "sum",
    "max",
    "min",
    "int",
    "list",
    "tuple",
    "dict",
    "isinstance",
    "any",
    "all",
    "enumerate",
    "zip",
    "reversed",
    "sorted",
    "type",
    "print",
    "map",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "TASK_TYPES",
    *QUESTIONS,
}
# "out" is bigru_final_states's parameter: no role may be called "out" there; the templates of that
# question use none of the roles named "out".


def _check_names() -> None:
    for style in range(5):
        names = [row[style] for row in NAMES.values()]
        assert len(set(names)) == len(names), (style, sorted(n for n in names if names.count(n) > 1))
        assert not set(names) & RESERVED, set(names) & RESERVED


def _names(rng: random.Random) -> dict[str, str]:
    """A student's names: one base style, a quarter of the names taken from another one (no clash)."""
    base = rng.randrange(5)
    names: dict[str, str] = {}
    for role, row in NAMES.items():
        name = row[base]
        if rng.random() < 0.25:
            other = row[rng.randrange(5)]
            if other not in names.values():
                name = other
        if name in names.values():
            name = row[base] if row[base] not in names.values() else f"{row[base]}_{role}"
        names[role] = name
    return names


def _renamed(names: dict[str, str], rng: random.Random) -> dict[str, str]:
    """Other names for every role, none equal to the original's (nor to any of its names)."""
    used = set(names.values())
    new: dict[str, str] = {}
    suffix = rng.choice(["2", "_", "_v", "x", "_bis"])
    for role, row in NAMES.items():
        pool = [n for n in row if n not in used and n not in new.values()]
        new[role] = rng.choice(pool) if pool else f"{row[rng.randrange(5)]}{suffix}"
        while new[role] in used or new[role] in list(new.values())[:-1]:
            new[role] += suffix
    return new


# -- the answers: generators of templates ----------------------------------------------------------


@dataclass
class Answer:
    body: str  # the function's body (or, for TASK_TYPES, the cell's code), not indented
    before: str = ""  # top-level code before the function in its cell (helpers)
    after: str = ""  # top-level code after the function


def _pick(rng: random.Random, *options):
    return options[rng.randrange(len(options))]


def _lines(*parts: str) -> str:
    return "\n".join(p for p in parts if p is not None and p != "")


def _swap(first: str, second: str) -> str:
    """Two independent blocks a reordering copier may swap."""
    return _lines("#{", first, "#|", second, "#}")


def _lengths_expr(rng: random.Random, device: str | None = None) -> str:
    """x_lengths (a list or an integer tensor) as an int64 tensor, written as students do."""
    expr = _pick(
        rng,
        "torch.as_tensor(x_lengths).long()",
        "torch.as_tensor(x_lengths, dtype=torch.long)",
        "torch.tensor(x_lengths) if isinstance(x_lengths, list) else x_lengths.long()",
        "torch.tensor(list(x_lengths), dtype=torch.int64)",
        "torch.LongTensor([int(v) for v in x_lengths])",
        "torch.as_tensor(x_lengths).to(torch.int64)",
        "x_lengths.long() if torch.is_tensor(x_lengths) else torch.tensor(x_lengths)",
    )
    if device and rng.random() < 0.4:
        expr = f"({expr}).to({device})"
    return expr


def _q_rnn_cell_forward(r: random.Random, wrong: str | None) -> Answer:
    prod = _pick(r, "at", "at", "mm", "matmul", "method", "einsum", "addmm", "cat")
    wxh = "W_xh.t()" if wrong == "transposed_w_xh" else "W_xh"
    whh = "W_hh.T" if wrong == "transposed_w_hh" else "W_hh"

    def mul(a: str, w: str) -> str:
        if wrong == "matmul_shapes":
            a, w = w, a
        return {
            "at": f"{a} @ {w}",
            "mm": f"torch.mm({a}, {w})",
            "matmul": f"torch.matmul({a}, {w})",
            "method": f"{a}.matmul({w})" if r.random() < 0.5 else f"{a}.mm({w})",
            "einsum": f'torch.einsum("ne,eh->nh", {a}, {w})',
            "addmm": f"{a} @ {w}",
            "cat": f"{a} @ {w}",
        }[prod]

    bias = _pick(r, "b_h", "b_h", "b_h.unsqueeze(0)", "b_h.view(1, -1)", "b_h[None, :]", "b_h.reshape(1, -1)")
    if wrong == "forgot_bias":
        bias = None
    terms = [mul("x_t", wxh), None if wrong == "ignored_h_prev" else mul("h_prev", whh)]
    if prod == "addmm" and bias and not wrong:
        terms[0], bias = f"torch.addmm({bias}, x_t, {wxh})", None
    if prod == "cat" and not wrong:
        both = _pick(r, "dim=1", "1", "-1")
        terms = [f"torch.cat([x_t, h_prev], {both}) @ torch.cat([W_xh, W_hh], {'0' if both == '1' else 'dim=0'})", None]
    if r.random() < 0.4:
        terms.reverse()
    terms = [t for t in terms if t]
    if bias and r.random() < 0.25:
        terms.insert(0, bias)
    elif bias:
        terms.append(bias)
    act = _pick(r, "torch.tanh({})", "torch.tanh({})", "({}).tanh()", "nn.Tanh()({})")
    if wrong in ("missing_tanh", "modified_inputs") and wrong == "missing_tanh":
        act = "{}"
    elif wrong == "relu_instead_of_tanh":
        act = _pick(r, "torch.relu({})", "F.relu({})")
    elif wrong == "sigmoid_instead_of_tanh":
        act = _pick(r, "torch.sigmoid({})", "({}).sigmoid()")
    checks = ""
    if r.random() < 0.25:
        checks = _lines(
            "#% vérifie les dimensions | check the shapes",
            'assert x_t.shape[1] == W_xh.shape[0], "E ne correspond pas"',
            'assert h_prev.shape[1] == W_hh.shape[0], "H ne correspond pas"',
        )
    shape = _pick(r, "one", "one", "parts", "pre", "pre_res")
    if shape == "parts" and len(terms) >= 2:
        first, second, *others = terms
        body = _lines(
            _swap(f"$ax = {first}", f"$ah = {second}"),
            "#% somme des deux contributions et du biais | both contributions plus the bias",
            f"return {act.format(' + '.join(['$ax', '$ah', *others]))}",
        )
    elif shape in ("pre", "pre_res"):
        body = _lines("#% pré-activation | pre-activation", f"$pre = {' + '.join(terms)}")
        if shape == "pre":
            body = _lines(body, f"return {act.format('$pre')}")
        else:
            body = _lines(body, f"$res = {act.format('$pre')}", "return $res")
    else:
        body = _lines("#% équation du RNN simple | simple RNN equation", f"return {act.format(' + '.join(terms))}")
    if wrong == "modified_inputs":
        expr = " + ".join(terms)
        body = _pick(
            r,
            f"h_prev.copy_(torch.tanh({expr}))\nreturn h_prev",
            f"h_prev += {expr} - h_prev\nh_prev.tanh_()\nreturn h_prev",
        )
    return Answer(_lines(checks, body))


def _hidden_size(r: random.Random) -> str:
    return _pick(
        r,
        "rnn_cell.hidden_size",
        "rnn_cell.hidden_size",
        "rnn_cell.weight_hh.shape[0]",
        "rnn_cell.weight_hh.size(1)",
        "rnn_cell.weight_ih.shape[0]",
    )


def _zeros(r: random.Random, n: str, hs: str, typed: bool = True) -> str:
    if not typed:
        return _pick(r, f"torch.zeros({n}, {hs})", f"torch.zeros(({n}, {hs}))")
    return _pick(
        r,
        f"torch.zeros({n}, {hs}, dtype=x_in.dtype, device=x_in.device)",
        f"x_in.new_zeros({n}, {hs})",
        f"x_in.new_zeros(({n}, {hs}))",
        f"torch.zeros({n}, {hs}).to(x_in)",
        f"torch.zeros(({n}, {hs}), dtype=x_in.dtype)",
    )


def _unroll(r: random.Random, start: str, collect: str, modify_input: bool = False, feed_back: bool = True) -> str:
    """The loop over time: $state starts at `start` (already set); the states end up in `collect` style."""
    step_input = _pick(r, "x_in[:, $step]", "x_in[:, $step, :]", "x_in.select(1, $step)")
    new = "rnn_cell($xt, $state)" if feed_back else f"rnn_cell($xt, {start})"
    if collect == "prealloc":
        loop = _lines(
            f"for $step in range({_pick(r, '$t', 'x_in.shape[1]')}):",
            f"    $state = {new.replace('$xt', step_input)}",
            "    $states[:, $step] = $state",
        )
        return loop
    it = _pick(r, "range", "range", "unbind", "transpose", "permute", "while")
    if modify_input:
        it = "inplace"
    append = "$states.append($state)" if collect == "list" else "$states.append($state.unsqueeze(1))"
    if it == "range":
        return _lines(
            f"for $step in range({_pick(r, '$t', 'x_in.shape[1]', 'x_in.size(1)')}):",
            f"    $state = {new.replace('$xt', step_input)}",
            f"    {append}",
        )
    if it == "while":
        return _lines(
            "$step = 0",
            f"while $step < {_pick(r, '$t', 'x_in.shape[1]')}:",
            f"    $state = {new.replace('$xt', step_input)}",
            f"    {append}",
            "    $step += 1",
        )
    source = {
        "unbind": _pick(r, "x_in.unbind(1)", "x_in.unbind(dim=1)", "torch.unbind(x_in, dim=1)"),
        "transpose": "x_in.transpose(0, 1)",
        "permute": "x_in.permute(1, 0, 2)",
        "inplace": "x_in.transpose_(0, 1)",
    }[it]
    return _lines(f"for $xt in {source}:", f"    $state = {new}", f"    {append}")


def _stacked(r: random.Random, collect: str) -> str:
    if collect == "cat":
        return _pick(r, "torch.cat($states, dim=1)", "torch.cat($states, 1)")
    if collect == "prealloc":
        return "$states"
    return _pick(
        r,
        "torch.stack($states, dim=1)",
        "torch.stack($states, 1)",
        "torch.stack($states).transpose(0, 1)",
        "torch.stack($states, dim=0).permute(1, 0, 2)",
    )


def _q_rnn_cell_loop(r: random.Random, wrong: str | None) -> Answer:
    hs = _hidden_size(r)
    unpack = _pick(r, "tuple", "two", "slice", "none")
    n, t = ("$n", "$t") if unpack != "none" else ("x_in.shape[0]", "x_in.shape[1]")
    head = {
        "tuple": "$n, $t, _ = x_in.shape",
        "two": "$n = x_in.size(0)\n$t = x_in.size(1)",
        "slice": "$n, $t = x_in.shape[:2]",
        "none": "",
    }[unpack]
    if r.random() < 0.3 and unpack != "none":
        head = _lines(head, f"$hs = {hs}")
        hs = "$hs"
    collect = _pick(r, "list", "list", "list", "cat", "prealloc")
    zeros = _zeros(r, n, hs, typed=wrong != "default_hidden_dtype")
    init = _pick(r, "if", "if", "ternary", "ifelse")
    if wrong == "ignored_initial_hidden":
        init = "ignore"
    start = {
        "if": f"if hidden is None:\n    hidden = {zeros}\n$state = hidden",
        "ternary": f"$state = hidden if hidden is not None else {zeros}",
        "ifelse": f"if hidden is None:\n    $state = {zeros}\nelse:\n    $state = hidden",
        "ignore": f"$state = {zeros}",
    }[init]
    if init == "if" and r.random() < 0.5:
        start = start.replace("\n$state = hidden", "").replace("$state", "hidden")
        state_name = "hidden"
    else:
        state_name = "$state"
    states_init = {
        "list": "$states = []",
        "cat": "$states = []",
        "prealloc": _pick(
            r,
            f"$states = x_in.new_empty({n}, {t}, {hs})",
            f"$states = torch.empty({n}, {t}, {hs}, dtype=x_in.dtype, device=x_in.device)",
        ),
    }[collect]
    if wrong == "included_initial_state":
        collect, states_init = "list", "$states = [$state]"
    if collect == "prealloc" and t == "$t" and unpack == "none":
        t = "x_in.shape[1]"
    loop = _unroll(r, "hidden", collect, modify_input=wrong == "modified_x_in", feed_back=wrong != "state_not_fed_back")
    if wrong == "state_not_fed_back":
        loop = loop.replace("rnn_cell($xt, hidden)", "rnn_cell($xt, $state)").replace(
            "$state = rnn_cell", "$new = rnn_cell"
        )
        loop = loop.replace("$states.append($state", "$states.append($new").replace(
            "    $states[:, $step] = $state", "    $states[:, $step] = $new"
        )
        loop = loop.replace("$new", "$res")
    loop = loop.replace("$t", t) if unpack == "none" else loop
    ret = "return " + _stacked(r, collect)
    if wrong == "stacked_time_first":
        ret = "return torch.stack($states)"
    if wrong == "returned_last_state_only":
        ret = "return $state"
    if wrong == "included_initial_state":
        ret = "return torch.stack($states, dim=1)"
    code = _lines(
        "#% tailles | sizes" if head else "",
        head,
        "#% état initial nul si besoin | zero initial state when none is given",
        start,
        states_init,
        "#% boucle sur le temps | loop over time",
        loop,
        ret,
    )
    if state_name == "hidden":
        code = re.sub(r"\$state\b", "hidden", code)
    return Answer(code)


def _q_gather(r: random.Random, wrong: str | None) -> Answer:
    helper_lens = r.random() < 0.25
    helper_check = r.random() < 0.25
    conv = _lengths_expr(r) if helper_lens else _lengths_expr(r, "hiddens.device")  # a helper has no hiddens
    before = ""
    if helper_lens:
        before = _lines(
            "def $fn_lens(x_lengths):",
            "    #% liste ou tenseur -> tenseur int64 | list or tensor -> int64 tensor",
            f"    return {conv}",
            "",
        )
        conv = "$fn_lens(x_lengths)"
    unpack = _pick(r, "tuple", "two", "inline")
    n, t = ("$n", "$t") if unpack != "inline" else ("hiddens.shape[0]", "hiddens.shape[1]")
    head = {"tuple": "$n, $t, _ = hiddens.shape", "two": "$n, $t = hiddens.size(0), hiddens.size(1)", "inline": ""}[
        unpack
    ]
    count = _pick(
        r,
        f"len($lens) != {n}",
        f"$lens.numel() != {n}",
        f"$lens.shape[0] != {n}",
        f"$lens.shape != ({n},)",
        f"$lens.size(0) != {n}",
    )
    rng_ = _pick(
        r,
        f"($lens < 1).any() or ($lens > {t}).any()",
        f"$lens.min() < 1 or $lens.max() > {t}",
        f"not torch.all(($lens >= 1) & ($lens <= {t}))",
        f"(($lens < 1) | ($lens > {t})).sum() > 0",
        f"any(v < 1 or v > {t} for v in $lens.tolist())",
        f"int($lens.min()) < 1 or int($lens.max()) > {t}",
    )
    msg_c = _pick(
        r,
        '"il faut une longueur par séquence"',
        'f"expected {$n} lengths"' if n == "$n" else '"wrong number"',
        '"nombre de longueurs incorrect"',
    )
    msg_r = _pick(r, '"longueur hors de [1, T]"', '"length out of range"', 'f"longueurs entre 1 et {' + t + '}"')
    checks_mode = _pick(r, "two", "two", "one")
    if wrong == "length_out_of_range_accepted":
        rng_ = None
    if wrong == "wrong_number_of_lengths_accepted":
        count = None
    if checks_mode == "one" and rng_ and count:
        checks = _lines(f"if {count} or {rng_}:", f"    raise ValueError({msg_r})")
    else:
        blocks = []
        if count:
            blocks.append(_lines(f"if {count}:", f"    raise ValueError({msg_c})"))
        if rng_:
            blocks.append(_lines(f"if {rng_}:", f"    raise ValueError({msg_r})"))
        checks = _swap(*blocks) if len(blocks) == 2 else _lines(*blocks)
    if helper_check and count and rng_:
        before = _lines(
            before,
            f"def $fn_check($lens, {n if n == '$n' else '$n'}, {t if t == '$t' else '$t'}):",
            "    #% lève ValueError si les longueurs ne vont pas | raise ValueError on bad lengths",
            "    " + checks.replace("\n", "\n    ").replace(n, "$n").replace(t, "$t"),
            "",
        )
        checks = f"$fn_check($lens, {n}, {t})"
    conv_line = f"$lens = {conv}"
    if wrong == "gather_lengths_as_list":
        conv_line = "$lens = x_lengths"
    select = _pick(r, "adv", "adv", "adv", "gather", "flat", "onehot", "take", "loop")
    rows = _pick(r, f"torch.arange({n})", f"torch.arange({n}, device=hiddens.device)", "torch.arange(hiddens.size(0))")
    last = "$lens - 1" if wrong != "gather_off_by_one" else "$lens"
    if select == "adv":
        sel = _pick(
            r,
            _lines(f"$rows = {rows}", f"return hiddens[$rows, {last}]"),
            f"return hiddens[{rows}, {last}]",
            _lines(f"$idx = {last}", f"return hiddens[{rows}, $idx]"),
        )
    elif select == "gather":
        sel = _lines(
            f"$idx = ({last}).view(-1, 1, 1).expand(-1, 1, hiddens.size(2))"
            if r.random() < 0.5
            else f"$idx = ({last}).reshape({n}, 1, 1).repeat(1, 1, hiddens.shape[-1])",
            "return hiddens.gather(1, $idx).squeeze(1)",
        )
    elif select == "flat":
        sel = _lines(
            f"$idx = torch.arange({n}) * {t} + ({last})",
            _pick(
                r,
                "return hiddens.reshape(-1, hiddens.shape[2])[$idx]",
                "return hiddens.flatten(0, 1).index_select(0, $idx)",
            ),
        )
    elif select == "onehot":
        sel = _lines(
            f"$mask = F.one_hot({last}, {t}).unsqueeze(-1).to(hiddens.dtype)", "return (hiddens * $mask).sum(dim=1)"
        )
    elif select == "take":
        sel = f"return torch.take_along_dim(hiddens, ({last}).view(-1, 1, 1), dim=1).squeeze(1)"
    else:
        sel = _lines(
            "$res = [hiddens[$b, $ln - 1] for $b, $ln in enumerate($lens.tolist())]",
            "return torch.stack($res)",
        )
        if wrong == "gather_off_by_one":
            sel = sel.replace("$ln - 1", "$ln")
    if wrong == "gather_reads_padding":
        sel = "return hiddens[:, -1]"
    elif wrong == "gather_kept_time_axis":
        sel = _lines(
            f"$idx = ({last}).view(-1, 1, 1).expand(-1, 1, hiddens.shape[2])", "return hiddens.gather(1, $idx)"
        )
    elif wrong == "gather_all_rows":
        sel = f"return hiddens[:, {last}]"
    order = _pick(r, "conv_first", "head_first")
    head_part = _lines("#% dimensions | dimensions", head) if head else ""
    conv_part = _lines("#% longueurs en tenseur | lengths as a tensor", conv_line)
    top = _swap(head_part, conv_part) if head_part and order == "conv_first" else _lines(head_part, conv_part)
    body = _lines(
        top, "#% vérifications | checks", checks, "#% sélection du dernier état réel | pick the last real state", sel
    )
    if wrong == "wrong_number_of_lengths_accepted" and r.random() < 0.5:
        body = _lines(
            "$res = []",
            "for $b in range(hiddens.shape[0]):",
            "    $ln = int(x_lengths[$b])",
            "    if $ln < 1 or $ln > hiddens.shape[1]:",
            f"        raise ValueError({msg_r})",
            "    $res.append(hiddens[$b, $ln - 1])",
            "return torch.stack($res)",
        )
    return Answer(body, before=before)


def _q_classify(r: random.Random, wrong: str | None) -> Answer:
    flat = _pick(
        r,
        "if z.dim() == 3:\n    z = z[0]",
        "if z.dim() == 3:\n    z = z.squeeze(0)",
        "if len(z.shape) == 3:\n    z = z.squeeze(0)",
        "if z.ndim > 2:\n    z = z[0]",
        "z = z.reshape(-1, z.shape[-1])",
        "z = z.view(-1, z.size(-1))",
        "z = z.flatten(0, -2)",
        "logits",
    )
    dim = _pick(r, "dim=-1", "dim=1", "-1", "1") if flat != "logits" else _pick(r, "dim=-1", "-1")
    soft = _pick(r, "torch", "F", "method", "module", "logexp", "expmax", "helper")
    if wrong == "softmax_over_batch":
        dim = "dim=0"
    if wrong == "no_softmax":
        soft = "none"
    if wrong == "log_softmax":
        soft = "log"
    if wrong == "kept_layer_axis":
        flat = ""

    def sm(x: str) -> str:
        return {
            "torch": f"torch.softmax({x}, {dim})",
            "F": f"F.softmax({x}, {dim})",
            "method": f"{x}.softmax({dim})",
            "module": f"nn.Softmax({dim if dim.startswith('dim') else 'dim=' + dim})({x})",
            "logexp": f"F.log_softmax({x}, {dim}).exp()",
            "expmax": None,
            "helper": f"$fn_soft({x})",
            "none": x,
            "log": f"F.log_softmax({x}, {dim})",
        }[soft]

    before = ""
    if soft == "helper":
        before = _lines(
            "def $fn_soft($logits):",
            "    #% softmax stable sur le dernier axe | stable softmax over the last axis",
            "    $ex = ($logits - $logits.max(dim=-1, keepdim=True).values).exp()",
            "    return $ex / $ex.sum(dim=-1, keepdim=True)",
            "",
        )
    if flat == "logits":
        code = _lines(
            "$logits = fc(z)",
            "#% un h_n (1, N, C) : on enlève l'axe des couches | an h_n (1, N, C): drop the layer axis",
            "if $logits.dim() == 3:",
            "    $logits = $logits[0]",
        )
    else:
        code = _lines("#% z peut être (1, N, H) | z may be (1, N, H)" if flat else "", flat, "$logits = fc(z)")
    if soft == "expmax":
        d = "dim=1" if dim in ("1", "dim=1") else "dim=-1"
        code = _lines(
            code,
            f"$ex = torch.exp($logits - $logits.max({d}, keepdim=True).values)",
            f"return $ex / $ex.sum({d}, keepdim=True)",
        )
    elif r.random() < 0.5 or soft == "none":
        code = _lines(code, f"return {sm('$logits')}")
    else:
        code = _lines(code, f"$probs = {sm('$logits')}", "return $probs")
    if r.random() < 0.3 and flat not in ("logits", "") and soft not in ("expmax", "none"):
        # everything on one line
        code = _lines(flat, f"return {sm('fc(z)')}")
    return Answer(code, before=before)


def _pack_call(r: random.Random, x: str, lens: str, enforce: bool = False) -> str:
    fn = _pick(
        r,
        "pack_padded_sequence",
        "pack_padded_sequence",
        "nn.utils.rnn.pack_padded_sequence",
        "torch.nn.utils.rnn.pack_padded_sequence",
    )
    if enforce:
        return f"{fn}({x}, {lens}, batch_first=True)"
    return f"{fn}({x}, {lens}, batch_first=True, enforce_sorted=False)"


def _cpu_lengths(r: random.Random) -> str:
    return _pick(
        r,
        "torch.as_tensor(x_lengths).cpu()",
        "torch.as_tensor(x_lengths, dtype=torch.int64).to('cpu')",
        "x_lengths",
        "torch.tensor([int(v) for v in x_lengths])",
        "list(map(int, x_lengths))",
        "torch.as_tensor(x_lengths).to(device='cpu', dtype=torch.long)",
        "x_lengths.cpu() if torch.is_tensor(x_lengths) else torch.tensor(x_lengths)",
    )


def _q_many_to_one(r: random.Random, wrong: str | None) -> Answer:
    way = _pick(r, "index", "index", "index", "pack", "pack", "unpack", "sort", "per_seq")
    lens = _lengths_expr(r, "$out.device")
    if wrong == "many_to_one_reads_padding":
        return Answer(
            _pick(
                r,
                "$out, $final = rnn(x_in)\nreturn fc($final[-1])",
                "_, $final = rnn(x_in)\n$last = $final[-1]\nreturn fc($last)",
            )
        )
    if wrong in ("many_to_one_first_layer", "many_to_one_enforce_sorted"):
        enforce = wrong == "many_to_one_enforce_sorted"
        layer = "0" if wrong == "many_to_one_first_layer" else "-1"
        return Answer(
            _lines(
                f"$packed = {_pack_call(r, 'x_in', _cpu_lengths(r), enforce)}",
                "_, $final = rnn($packed)",
                f"return fc($final[{layer}])",
            )
        )
    if way == "index" or wrong:
        run = _pick(r, "$out, _ = rnn(x_in)", "$out = rnn(x_in)[0]", "$out, $final = rnn(x_in)")
        fc_first = r.random() < 0.25 and wrong not in ("many_to_one_missing_fc", "many_to_one_probabilities")
        if fc_first:
            run = _lines(
                run, "#% fc sur tous les pas, puis on choisit | fc on every step, then pick", "$out = fc($out)"
            )
        lens_line = f"$lens = {lens}" if wrong != "many_to_one_lengths_as_list" else "$lens = x_lengths"
        minus = "- 1" if wrong != "many_to_one_off_by_one" else ""
        pick = _pick(r, "adv", "adv", "gather", "loop", "helper")
        rows = _pick(
            r,
            "torch.arange($out.shape[0])",
            "torch.arange(x_in.size(0), device=$out.device)",
            "torch.arange(len($lens))",
        )
        before = ""
        if pick == "adv":
            sel = _pick(r, f"$last = $out[{rows}, $lens {minus}]", f"$idx = $lens {minus}\n$last = $out[{rows}, $idx]")
        elif pick == "gather":
            sel = (
                f"$idx = ($lens {minus}).view(-1, 1, 1).expand(-1, 1, $out.size(-1))\n"
                "$last = $out.gather(1, $idx).squeeze(1)"
            )
        elif pick == "loop":
            sel = f"$last = torch.stack([$out[$b, $ln {minus}] for $b, $ln in enumerate($lens.tolist())])"
        else:
            before = _lines(
                "def $fn_last($out, $lens):",
                "    #% sortie au dernier pas réel | output at the last real step",
                f"    return $out[torch.arange($out.size(0)), $lens {minus}]",
                "",
            )
            sel = "$last = $fn_last($out, $lens)"
        sel = (
            sel.replace(" )", ")")
            .replace("$lens ]", "$lens]")
            .replace("$lens \n", "$lens\n")
            .replace("$lens  ", "$lens ")
        )
        sel = re.sub(r"\$lens (\]|\)|\n|$)", r"$lens\1", sel)
        end = "return $last" if fc_first else "return fc($last)"
        if wrong == "many_to_one_missing_fc":
            end = "return $last"
        if wrong == "many_to_one_probabilities":
            end = _pick(r, "return F.softmax(fc($last), dim=-1)", "return torch.softmax(fc($last), 1)")
        return Answer(
            _lines(
                _swap(run, lens_line) if r.random() < 0.5 else _lines(run, lens_line),
                "#% dernière sortie pertinente | last relevant output",
                sel,
                end,
            ),
            before=before,
        )
    if way == "pack":
        return Answer(
            _lines(
                "#% on empaquette pour ne pas lire le remplissage | pack so the padding is never read",
                f"$packed = {_pack_call(r, 'x_in', _cpu_lengths(r))}",
                _pick(r, "_, $final = rnn($packed)", "$final = rnn($packed)[1]"),
                _pick(
                    r,
                    "return fc($final[-1])",
                    "$last = $final[-1]\nreturn fc($last)",
                    "return fc($final[rnn.num_layers - 1])",
                ),
            )
        )
    if way == "unpack":
        return Answer(
            _lines(
                f"$packed = {_pack_call(r, 'x_in', _cpu_lengths(r))}",
                "$out, _ = rnn($packed)",
                _pick(
                    r,
                    "$out, $lens = pad_packed_sequence($out, batch_first=True)",
                    "$out, $lens = nn.utils.rnn.pad_packed_sequence($out, batch_first=True)",
                ),
                "#% les longueurs rendues sont dans l'ordre du batch | the returned lengths follow the batch order",
                _pick(
                    r,
                    "return fc($out[torch.arange($out.size(0)), $lens - 1])",
                    "$idx = ($lens - 1).view(-1, 1, 1).expand(-1, 1, $out.shape[2])\n"
                    "return fc($out.gather(1, $idx).squeeze(1))",
                ),
            )
        )
    if way == "sort":
        unsort = _pick(
            r,
            "$inv = $order.argsort()\nreturn fc($final[-1][$inv])",
            "$res = torch.empty_like($final[-1])\n$res[$order] = $final[-1]\nreturn fc($res)",
        )
        return Answer(
            _lines(
                f"$lens = {_lengths_expr(r)}",
                "#% tri par longueur décroissante | sort by decreasing length",
                _pick(
                    r,
                    "$slens, $order = torch.sort($lens, descending=True)",
                    "$slens, $order = $lens.sort(descending=True)",
                ),
                f"$packed = {_pack_call(r, 'x_in[$order]', '$slens.cpu()', enforce=True)}",
                "_, $final = rnn($packed)",
                "#% on remet dans l'ordre du batch | back to the batch order",
                unsort,
            )
        )
    return Answer(
        _lines(
            "$res = []",
            f"for $b, $ln in enumerate({_pick(r, '$lens.tolist()', '$lens')}):",
            "    #% chaque séquence seule, sans remplissage | each sequence alone, without padding",
            f"    $out, _ = rnn(x_in[$b:$b + 1, :{_pick(r, 'int($ln)', '$ln')}])",
            "    $res.append($out[0, -1])",
            "return fc(torch.stack($res))",
        ).replace("$res = []", f"$lens = {_lengths_expr(r)}\n$res = []")
    )


def _q_packed(r: random.Random, wrong: str | None) -> Answer:
    way = _pick(r, "plain", "plain", "plain", "plain", "sort", "unpack")
    conv = _cpu_lengths(r)
    lstm = _pick(
        r,
        "if isinstance(rnn, nn.LSTM):\n    $final = $final[0]",
        "if isinstance($final, tuple):\n    $final = $final[0]",
        "if type(rnn).__name__ == 'LSTM':\n    $final = $final[0]",
        'if rnn.mode == "LSTM":\n    $final, _ = $final',
        "if isinstance($final, (tuple, list)):\n    $final = $final[0]",
        "$final = $final[0] if isinstance(rnn, torch.nn.LSTM) else $final",
    )
    take = _pick(
        r,
        "return $final[-1]",
        "return $final[rnn.num_layers - 1]",
        "return $final[-1, :, :]",
        "return $final.select(0, -1)",
        "$last = $final[-1]\nreturn $last",
    )
    lens_line = f"$lens = {conv}"
    if wrong == "returned_c_n":
        lstm = ""
    if wrong == "returned_whole_h_n":
        take = "return $final"
    if wrong == "returned_first_layer":
        take = "return $final[0]"
    if wrong or way == "plain":
        pack = f"$packed = {_pack_call(r, 'x_in', '$lens', enforce=wrong == 'enforce_sorted_true')}"
        code = _lines(
            "#% longueurs sur le CPU | lengths on the CPU",
            lens_line,
            pack,
            _pick(r, "_, $final = rnn($packed)", "$out, $final = rnn($packed)", "$final = rnn($packed)[1]"),
            "#% un LSTM renvoie (h_n, c_n) | an LSTM returns (h_n, c_n)",
            lstm,
            take,
        )
        if wrong == "read_padded_last_step":
            code = _lines(
                lens_line,
                pack,
                "$out, _ = rnn($packed)",
                "$out, _ = pad_packed_sequence($out, batch_first=True)",
                "return $out[:, -1]",
            )
        if wrong == "returned_in_sorted_order":
            code = _lines(
                f"$lens = {_lengths_expr(r)}",
                "$slens, $order = torch.sort($lens, descending=True)",
                f"$packed = {_pack_call(r, 'x_in[$order]', '$slens', enforce=True)}",
                "_, $final = rnn($packed)",
                lstm or "if isinstance($final, tuple):\n    $final = $final[0]",
                take,
            )
        return Answer(code)
    if way == "sort":
        return Answer(
            _lines(
                f"$lens = {_lengths_expr(r)}",
                _pick(
                    r,
                    "$slens, $order = torch.sort($lens, descending=True)",
                    "$order = torch.argsort($lens, descending=True)\n$slens = $lens[$order]",
                ),
                f"$packed = {_pack_call(r, 'x_in[$order]', '$slens.cpu()', enforce=True)}",
                "_, $final = rnn($packed)",
                lstm,
                "#% remettre dans l'ordre d'origine | restore the original order",
                _pick(
                    r,
                    "return $final[-1][$order.argsort()]",
                    "$res = torch.empty_like($final[-1])\n$res[$order] = $final[-1]\nreturn $res",
                ),
            )
        )
    return Answer(
        _lines(
            lens_line,
            f"$packed = {_pack_call(r, 'x_in', '$lens')}",
            "$out, _ = rnn($packed)",
            "#% sortie de la dernière couche, au dernier pas réel | last layer's output at the last real step",
            "$out, $slens = pad_packed_sequence($out, batch_first=True)",
            _pick(
                r,
                "return $out[torch.arange($out.shape[0]), $slens - 1]",
                "return torch.stack([$out[$b, $ln - 1] for $b, $ln in enumerate($slens.tolist())])",
            ),
        )
    )


FAMILIES = {
    "pos_tag_of_word": "one-to-one",
    "generate_review": "one-to-many",
    "review_sentiment": "many-to-one",
    "translation": "many-to-many",
    "risk_at_each_step": "many-to-many",
}
TASK_MISTAKES = {
    "translation_many_to_one": {"translation": "many-to-one"},
    "risk_at_each_step_many_to_one": {"risk_at_each_step": "many-to-one"},
    "generate_review_many_to_many": {"generate_review": "many-to-many"},
    "review_sentiment_reversed": {"generate_review": "many-to-one", "review_sentiment": "one-to-many"},
    "pos_tag_word_as_sequence": {"pos_tag_of_word": "many-to-many"},
    "task_type_spelling": {"review_sentiment": "many to one", "translation": "many_to_many"},
    "task_types_missing_key": {"translation": None},
}


def _q_task_types(r: random.Random, wrong: str | None) -> Answer:
    table = dict(FAMILIES)
    for key, value in TASK_MISTAKES.get(wrong or "", {}).items():
        table[key] = value
    keys = [k for k in table if table[k] is not None]
    r.shuffle(keys)
    q = _pick(r, '"', "'")
    style = _pick(r, "literal", "literal", "dict", "assign", "constants", "zip", "update", "comprehension", "grouped")
    comment = _pick(r, "#% une famille par tâche | one family per task", "")

    def s(v: str) -> str:
        return f"{q}{v}{q}"

    if style == "literal":
        body = _lines("TASK_TYPES = {", *[f"    {s(k)}: {s(table[k])}," for k in keys], "}")
    elif style == "dict":
        body = _lines("TASK_TYPES = dict(", *[f"    {k}={s(table[k])}," for k in keys], ")")
    elif style == "assign":
        body = _lines(*[f"TASK_TYPES[{s(k)}] = {s(table[k])}" for k in keys])
    elif style == "constants":
        consts = {
            "one-to-one": "ONE_TO_ONE",
            "one-to-many": "ONE_TO_MANY",
            "many-to-one": "MANY_TO_ONE",
            "many-to-many": "MANY_TO_MANY",
        }
        used = sorted({table[k] for k in keys if table[k] in consts}, key=list(consts).index)
        body = _lines(
            *[f"{consts[v]} = {s(v)}" for v in used],
            "TASK_TYPES = {",
            *[f"    {s(k)}: {consts.get(table[k], s(table[k]))}," for k in keys],
            "}",
        )
    elif style == "zip":
        body = _lines(
            "$keys = [" + ", ".join(s(k) for k in keys) + "]",
            "$fams = [" + ", ".join(s(table[k]) for k in keys) + "]",
            "TASK_TYPES = dict(zip($keys, $fams))",
        )
    elif style == "update":
        body = "TASK_TYPES.update({" + ", ".join(f"{s(k)}: {s(table[k])}" for k in keys) + "})"
    elif style == "grouped":
        groups: dict[str, list[str]] = {}
        for k in keys:
            groups.setdefault(table[k], []).append(k)
        body = _lines(
            "$table = {",
            *[f"    {s(v)}: [{', '.join(s(k) for k in ks)}]," for v, ks in groups.items()],
            "}",
            "TASK_TYPES = {}",
            "for $fams, $keys in $table.items():",
            "    for $step in $keys:",
            "        TASK_TYPES[$step] = $fams",
        )
    else:
        body = _lines(
            "$table = [",
            *[f"    ({s(k)}, {s(table[k])})," for k in keys],
            "]",
            _pick(r, "TASK_TYPES = {$keys: $fams for $keys, $fams in $table}", "TASK_TYPES = dict($table)"),
        )
    check = _pick(r, "", "", "", "print(TASK_TYPES)", "assert len(TASK_TYPES) == 5", "print(len(TASK_TYPES), 'tâches')")
    return Answer(_lines(comment, body, check))


def _q_gradient_norms(r: random.Random, wrong: str | None) -> Answer:
    n = _pick(r, "x_in.shape[0]", "x_in.size(0)", "$n")
    hs = _hidden_size(r)
    head = "$n = x_in.shape[0]" if n == "$n" else ""
    if n == "$n" and r.random() < 0.5:
        head = _pick(r, "$n, $t, _ = x_in.shape", "$n, $t = x_in.shape[:2]")
    zeros = _zeros(r, n, hs, typed=r.random() < 0.6)
    if wrong == "includes_h0":
        zeros = (
            zeros[:-1] + ", requires_grad=True)"
            if "to(x_in)" not in zeros and "new_zeros" not in zeros
            else f"torch.zeros({n}, {hs}, requires_grad=True)"
        )
    collect = "list"
    first = "$states = [$state]" if wrong == "includes_h0" else "$states = []"
    loop = _unroll(r, "$state", collect, modify_input=wrong == "gradient_norms_modified_input")
    if "$t" in loop and "$t, " not in head and "$t =" not in head:
        loop = loop.replace("$t", "x_in.shape[1]")
    if wrong == "gradient_norms_modified_input":
        zeros = zeros.replace("x_in.shape[0]", "x_in.shape[1]").replace("x_in.size(0)", "x_in.size(1)")
    if wrong == "autograd_graph_broken":
        loop = loop.replace("$states.append($state)", "$states.append($state.detach())")
    norm = _pick(
        r,
        "$gr.norm()",
        "torch.linalg.norm($gr)",
        "$gr.pow(2).sum().sqrt()",
        "torch.sqrt(($gr ** 2).sum())",
        "$gr.flatten().norm(p=2)",
        "torch.norm($gr)",
    )
    if wrong == "norms_per_sequence":
        norm = "$gr.norm(dim=1)"
    lossx = "$states[-1].sum()" if wrong != "mean_loss" else "$states[-1].mean()"
    way = _pick(r, "grad", "grad", "grad", "chain", "backward")
    if wrong in ("filled_cell_grads", "norms_reversed"):
        way = "backward" if wrong == "filled_cell_grads" else "grad"
    if way == "grad":
        grad = _pick(
            r,
            f"$grads = torch.autograd.grad({lossx}, $states)",
            f"$loss = {lossx}\n$grads = torch.autograd.grad($loss, $states)",
            f"$grads = torch.autograd.grad(outputs={lossx}, inputs=$states)",
        )
        it = "reversed($grads)" if wrong == "norms_reversed" else "$grads"
        stack = _pick(
            r,
            f"return torch.stack([{norm} for $gr in {it}]).detach()",
            f"return torch.stack([{norm} for $gr in {it}])",
            f"$norms = [{norm} for $gr in {it}]\nreturn torch.stack($norms)",
            f"return torch.tensor([float({norm}) for $gr in {it}])",
            f"$norms = []\nfor $gr in {it}:\n    $norms.append({norm})\nreturn torch.stack($norms).detach()",
        )
        tail = _lines(
            "#% gradients par rapport aux états intermédiaires | gradients w.r.t. the intermediate states", grad, stack
        )
    elif way == "chain":
        tail = _lines(
            "#% on remonte le temps un pas à la fois | walk back in time one step at a time",
            "$cur = torch.ones_like($states[-1])",
            "$norms = [$cur.norm()]",
            "for $step in range(len($states) - 2, -1, -1):",
            "    ($cur,) = torch.autograd.grad(",
            "        $states[$step + 1], $states[$step], grad_outputs=$cur, retain_graph=True",
            "    )",
            f"    $norms.append({norm.replace('$gr', '$cur')})",
            "return torch.stack($norms[::-1]).detach()",
        )
    else:
        tail = _lines(
            "for $state in $states:",
            "    $state.retain_grad()",
            f"{lossx}.backward()",
            f"$norms = torch.stack([{norm.replace('$gr', '$state.grad')} for $state in $states])",
            ""
            if wrong == "filled_cell_grads"
            else "#% ne pas laisser de .grad dans la cellule | leave no .grad in the cell",
            ""
            if wrong == "filled_cell_grads"
            else _pick(
                r, "rnn_cell.zero_grad(set_to_none=True)", "for $w in rnn_cell.parameters():\n    $w.grad = None"
            ),
            "return $norms.detach()",
        )
    wrap = r.random() < 0.15
    code = _lines(
        head, "#% déroulé depuis un état nul | unrolled from a zero state", f"$state = {zeros}", first, loop, tail
    )
    if wrap:
        code = "with torch.enable_grad():\n" + "\n".join("    " + line if line else line for line in code.split("\n"))
    return Answer(code)


def _q_count(r: random.Random, wrong: str | None) -> Answer:
    table = {"rnn": 1, "gru": 3, "lstm": 4} if wrong != "wrong_block_count" else {"rnn": 1, "gru": 4, "lstm": 3}
    lookup = _pick(r, "dict", "dict", "ifs", "index", "match", "get")
    msg = _pick(
        r, 'f"type inconnu : {kind}"', "kind", 'f"unknown kind {kind!r}"', '"kind doit valoir rnn, gru ou lstm"'
    )
    check = wrong != "unknown_kind_no_value_error"
    lower = "kind = kind.lower()\n" if wrong == "kind_not_exact" else ""
    if lookup == "dict":
        gates = _lines(
            "$gates = {" + ", ".join(f'"{k}": {v}' for k, v in table.items()) + "}",
            f"if kind not in $gates:\n    raise ValueError({msg})" if check else "",
            "$gv = $gates[kind]" if r.random() < 0.5 else "",
        )
        g = "$gv" if "$gv = $gates[kind]" in gates else "$gates[kind]"
    elif lookup == "ifs":
        gates = _lines(
            f'if kind == "rnn":\n    $gates = {table["rnn"]}',
            f'elif kind == "gru":\n    $gates = {table["gru"]}',
            f'elif kind == "lstm":\n    $gates = {table["lstm"]}',
            f"else:\n    raise ValueError({msg})" if check else "else:\n    $gates = None",
        )
        g = "$gates"
    elif lookup == "index":
        gates = _lines(
            f'if kind not in ("rnn", "gru", "lstm"):\n    raise ValueError({msg})' if check else "",
            f'$gates = ({table["rnn"]}, {table["gru"]}, {table["lstm"]})[["rnn", "gru", "lstm"].index(kind)]',
        )
        g = "$gates"
    elif lookup == "match":
        gates = _lines(
            "match kind:",
            f'    case "rnn":\n        $gates = {table["rnn"]}',
            f'    case "gru":\n        $gates = {table["gru"]}',
            f'    case "lstm":\n        $gates = {table["lstm"]}',
            f"    case _:\n        raise ValueError({msg})" if check else "    case _:\n        $gates = {}[kind]",
        )
        g = "$gates"
    else:
        gates = _lines(
            "$gates = {" + ", ".join(f"'{k}': {v}" for k, v in table.items()) + "}.get(kind)",
            f"if $gates is None:\n    raise ValueError({msg})" if check else "",
        )
        g = "$gates"
    gates = lower + gates
    d = _pick(
        r,
        "2 if bidirectional else 1",
        "1 + int(bidirectional)",
        "int(bidirectional) + 1",
        "(1, 2)[bool(bidirectional)]",
    )
    bias = "1" if wrong == "one_bias_per_block" else "2"
    h = "hidden_size"
    formula = _pick(
        r,
        f"{g} * {h} * ({{i}} + {h} + {bias})",
        f"{g} * ({h} * {{i}} + {h} * {h} + {bias} * {h})",
        f"({g} * {h} * {{i}} + {g} * {h} * {h} + {bias} * {g} * {h})",
        f"{g} * ({{i}} * {h} + {h} ** 2 + {bias} * {h})",
    )
    deeper = "$d * hidden_size" if wrong not in ("bidirectional_not_doubled",) else "hidden_size"
    if wrong == "input_size_every_layer":
        deeper = "input_size"
    if wrong == "deeper_layers_take_2h":
        deeper = "hidden_size"
    dirs = "$d" if wrong != "bidirectional_not_doubled" else "1"
    shape = _pick(r, "loop", "loop", "closed", "helper", "sum", "wb")
    before = ""
    if shape == "loop":
        calc = _lines(
            "$total = 0",
            "for $layer in range(num_layers):",
            f"    $inp = input_size if $layer == 0 else {deeper}",
            f"    $total += {dirs} * {formula.format(i='$inp')}"
            if r.random() < 0.5
            else f"    $per = {formula.format(i='$inp')}\n    $total += {dirs} * $per",
        )
    elif shape == "closed":
        calc = _lines(
            _swap(f"$first = {formula.format(i='input_size')}", f"$rest = {formula.format(i=deeper)}"),
            f"$total = {dirs} * ($first + (num_layers - 1) * $rest)",
        )
    elif shape == "sum":
        layer_input = f"(input_size if $layer == 0 else {deeper})"
        calc = f"$total = sum({dirs} * {formula.format(i=layer_input)} for $layer in range(num_layers))"
    elif shape == "wb":
        calc = _lines(
            "$w = 0",
            "$bias = 0",
            "for $layer in range(num_layers):",
            f"    $inp = {deeper} if $layer else input_size",
            f"    $w += {dirs} * {g} * {h} * ($inp + {h})",
            f"    $bias += {dirs} * {bias} * {g} * {h}",
            "$total = $w + $bias",
        )
    else:
        g2 = "$gates"
        before = _lines(
            f"def $fn_layer({g2}, $inp, {h}):",
            "    #% une couche, une direction | one layer, one direction",
            f"    return {formula.replace(g, g2).format(i='$inp')}",
            "",
        )
        calc = _lines(
            f"$total = {dirs} * $fn_layer({g}, input_size, {h})",
            "for _ in range(num_layers - 1):",
            f"    $total += {dirs} * $fn_layer({g}, {deeper}, {h})",
        )
    needs_d = "$d" in calc
    ret = "return $total" if wrong != "count_not_int" else "return $total / 1"
    if wrong == "deeper_layers_take_2h":
        pass
    code = _lines(
        "#% nombre de blocs selon le type | number of blocks per kind",
        gates,
        f"$d = {d}" if needs_d else "",
        "#% matrices et deux biais par bloc | matrices and two biases per block",
        calc,
        ret,
    )
    return Answer(code, before=before)


def _q_gru_shapes(r: random.Random, wrong: str | None) -> Answer:
    d = _pick(
        r,
        "2 if bidirectional else 1",
        "1 + int(bidirectional)",
        "(1, 2)[bidirectional]",
        "ifblock",
        "2 ** int(bidirectional)",
    )
    dline = f"$d = {d}" if d != "ifblock" else "$d = 1\nif bidirectional:\n    $d = 2"
    if r.random() < 0.15 and d != "ifblock":
        dline = f"$d = {d}"
    feat = _pick(r, "$d * hidden_size", "hidden_size * $d")
    lay = _pick(r, "$d * num_layers", "num_layers * $d")
    if wrong == "out_features_not_doubled":
        feat = "hidden_size"
    if wrong in ("h_n_layers_not_doubled", "bidirectional_ignored"):
        lay = "num_layers"
    if wrong == "bidirectional_ignored":
        feat, dline = "hidden_size", ""
    if wrong == "h_n_ignores_layers":
        lay = "$d"
    o = f"(batch_size, seq_size, {feat})"
    hn = f"({lay}, batch_size, hidden_size)"
    if wrong == "h_n_batch_first":
        hn = f"(batch_size, {lay}, hidden_size)"
    if wrong == "out_time_first":
        o = f"(seq_size, batch_size, {feat})"
    if wrong == "shapes_as_lists":
        o, hn = "[" + o[1:-1] + "]", "[" + hn[1:-1] + "]"
    if wrong == "shapes_not_ints":
        o = f"(batch_size, seq_size, {feat} / 1)"
    style = _pick(r, "direct", "vars", "vars_swapped", "tuple_call", "feat")
    if style == "direct":
        body = f"return {o}, {hn}"
    elif style == "vars":
        body = _lines(f"$oshape = {o}", f"$hshape = {hn}", "return $oshape, $hshape")
    elif style == "vars_swapped":
        body = _lines(f"$hshape = {hn}", f"$oshape = {o}", "return ($oshape, $hshape)")
    elif style == "tuple_call":
        body = f"return tuple([{o[1:-1]}]), tuple([{hn[1:-1]}])" if wrong != "shapes_as_lists" else f"return {o}, {hn}"
    else:
        body = _lines(f"$feat = {feat}", f"return {o.replace(feat, '$feat')}, {hn}")
    return Answer(_lines("#% nombre de directions | number of directions" if dline else "", dline, body))


def _q_bigru(r: random.Random, wrong: str | None) -> Answer:
    h = "hidden_size"
    way = _pick(r, "slice", "slice", "slice2", "split", "view", "narrow", "steps")
    clone = _pick(r, "", "", "", ".clone()", ".contiguous()")
    swap_dirs = wrong == "directions_swapped"
    if wrong in (
        "halves_swapped",
        "backward_read_at_last_step",
        "forward_read_at_first_step",
        "final_steps_swapped",
        "returned_stacked_tensor",
        "returned_concatenated_tensor",
    ):
        way = "slice"
    fs, bs = "-1", "0"
    fh, bh = f":{h}", f"{h}:"
    if wrong == "halves_swapped":
        fh, bh = bh, fh
    if wrong == "backward_read_at_last_step":
        bs = "-1"
    if wrong == "forward_read_at_first_step":
        fs = "0"
    if wrong == "final_steps_swapped":
        fs, bs = bs, fs
    if way == "slice":
        last = _pick(r, "-1", "out.shape[1] - 1", "out.size(1) - 1") if fs == "-1" else fs
        fh2 = _pick(r, fh, "0:" + h) if fh == f":{h}" else fh
        bh2 = _pick(r, bh, f"{h}:2 * {h}", f"{h}:") if bh == f"{h}:" else bh
        code = _swap(f"$fwd = out[:, {last}, {fh2}]{clone}", f"$bwd = out[:, {bs}, {bh2}]{clone}")
    elif way == "slice2":
        code = _swap(f"$fwd = out[:, -1][:, :{h}]{clone}", f"$bwd = out[:, 0][:, {h}:]{clone}")
    elif way == "split":
        code = _lines(
            _pick(
                r,
                f"$fwd_all, $bwd_all = torch.split(out, {h}, dim=2)",
                f"$fwd_all, $bwd_all = out.split({h}, dim=-1)",
                "$fwd_all, $bwd_all = out.chunk(2, dim=-1)",
                "$fwd_all, $bwd_all = torch.chunk(out, 2, dim=2)",
            ),
            "#% l'arrière finit au pas 0 | the backward direction ends at step 0",
            _swap(f"$fwd = $fwd_all[:, -1]{clone}", f"$bwd = $bwd_all[:, 0]{clone}"),
        )
    elif way == "view":
        code = _lines(
            _pick(
                r,
                f"$n, $t, _ = out.shape\n$res = out.view($n, $t, 2, {h})",
                f"$res = out.reshape(out.size(0), out.size(1), 2, {h})",
                f"$res = out.unflatten(-1, (2, {h}))",
            ),
            _swap(f"$fwd = $res[:, -1, 0]{clone}", f"$bwd = $res[:, 0, 1]{clone}"),
        )
    elif way == "narrow":
        code = _swap(f"$fwd = out[:, -1].narrow(-1, 0, {h}){clone}", f"$bwd = out[:, 0].narrow(-1, {h}, {h}){clone}")
    else:
        code = _lines(
            _swap("$last = out[:, -1, :]", "$out = out[:, 0, :]"),
            f"$fwd, $bwd = $last[:, :{h}], $out[:, {h}:]",
        ).replace("$out", "$xt")
    ret = _pick(r, "return $fwd, $bwd", "return ($fwd, $bwd)")
    if swap_dirs:
        ret = "return $bwd, $fwd"
    if wrong == "returned_stacked_tensor":
        ret = "return torch.stack([$fwd, $bwd])"
    if wrong == "returned_concatenated_tensor":
        ret = _pick(r, "return torch.cat([$fwd, $bwd], dim=1)", "return torch.cat(($fwd, $bwd), -1)")
    one_line = way == "slice" and not clone and r.random() < 0.25 and not wrong
    if one_line:
        return Answer(
            f"return out[:, -1, :{h}], out[:, 0, {h}:]"
            if r.random() < 0.5
            else f"return (out[:, -1, :{h}], out[:, 0, {h}:])"
        )
    return Answer(
        _lines("#% avant : dernier pas ; arrière : premier pas | forward: last step; backward: first step", code, ret)
    )


GENERATORS = {
    "rnn_cell_forward": _q_rnn_cell_forward,
    "rnn_cell_loop": _q_rnn_cell_loop,
    "gather_last_relevant_hidden": _q_gather,
    "classify_hidden": _q_classify,
    "many_to_one_logits": _q_many_to_one,
    "packed_last_hidden": _q_packed,
    "TASK_TYPES": _q_task_types,
    "hidden_gradient_norms": _q_gradient_norms,
    "count_recurrent_parameters": _q_count,
    "gru_output_shapes": _q_gru_shapes,
    "bigru_final_states": _q_bigru,
}
MISTAKES = {
    "rnn_cell_forward": [
        "missing_tanh",
        "relu_instead_of_tanh",
        "sigmoid_instead_of_tanh",
        "transposed_w_xh",
        "transposed_w_hh",
        "forgot_bias",
        "ignored_h_prev",
        "matmul_shapes",
        "modified_inputs",
    ],
    "rnn_cell_loop": [
        "stacked_time_first",
        "returned_last_state_only",
        "included_initial_state",
        "state_not_fed_back",
        "ignored_initial_hidden",
        "default_hidden_dtype",
        "modified_x_in",
    ],
    "gather_last_relevant_hidden": [
        "gather_off_by_one",
        "gather_reads_padding",
        "gather_kept_time_axis",
        "gather_all_rows",
        "gather_lengths_as_list",
        "length_out_of_range_accepted",
        "wrong_number_of_lengths_accepted",
    ],
    "classify_hidden": ["softmax_over_batch", "no_softmax", "kept_layer_axis", "log_softmax"],
    "many_to_one_logits": [
        "many_to_one_reads_padding",
        "many_to_one_off_by_one",
        "many_to_one_first_layer",
        "many_to_one_missing_fc",
        "many_to_one_probabilities",
        "many_to_one_lengths_as_list",
        "many_to_one_enforce_sorted",
    ],
    "packed_last_hidden": [
        "enforce_sorted_true",
        "returned_in_sorted_order",
        "returned_c_n",
        "returned_whole_h_n",
        "returned_first_layer",
        "read_padded_last_step",
    ],
    "TASK_TYPES": list(TASK_MISTAKES),
    "hidden_gradient_norms": [
        "norms_reversed",
        "includes_h0",
        "norms_per_sequence",
        "mean_loss",
        "autograd_graph_broken",
        "gradient_norms_modified_input",
        "filled_cell_grads",
    ],
    "count_recurrent_parameters": [
        "one_bias_per_block",
        "input_size_every_layer",
        "deeper_layers_take_2h",
        "bidirectional_not_doubled",
        "wrong_block_count",
        "unknown_kind_no_value_error",
        "kind_not_exact",
        "count_not_int",
    ],
    "gru_output_shapes": [
        "out_features_not_doubled",
        "h_n_layers_not_doubled",
        "bidirectional_ignored",
        "h_n_batch_first",
        "out_time_first",
        "h_n_ignores_layers",
        "shapes_as_lists",
        "shapes_not_ints",
    ],
    "bigru_final_states": [
        "directions_swapped",
        "halves_swapped",
        "backward_read_at_last_step",
        "forward_read_at_first_step",
        "final_steps_swapped",
        "returned_stacked_tensor",
        "returned_concatenated_tensor",
    ],
}


# -- rendering ---------------------------------------------------------------------------------------


@dataclass
class Style:
    names: dict[str, str]
    lang: str | None  # "fr", "en" or None (no comments)
    density: float  # share of the comment lines kept
    seed: int  # decides which comment lines are kept
    blank_before_return: bool = False


def _render(template: str, style: Style, swap: bool = False, salt: str = "") -> str:
    out: list[str] = []
    region: list[list[str]] | None = None
    for number, line in enumerate(template.split("\n")):
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == "#{":
            region = [[]]
            continue
        if stripped == "#|" and region is not None:
            region.append([])
            continue
        if stripped == "#}" and region is not None:
            blocks = region[::-1] if swap else region
            region = None
            out += [x for block in blocks for x in block]
            continue
        if stripped.startswith("#%"):
            fr, _, en = stripped[2:].partition("|")
            keep = random.Random(f"{style.seed}-{salt}-{number}").random() < style.density
            if not style.lang or not keep:
                continue
            line = f"{indent}# {(fr if style.lang == 'fr' else en).strip()}"
        elif style.blank_before_return and stripped.startswith("return ") and not indent:
            target = region[-1] if region is not None else out
            if target and target[-1].strip() and not target[-1].lstrip().startswith("#"):
                target.append("")
        (region[-1] if region is not None else out).append(line)
    text = "\n".join(out)
    return string.Template(text).substitute(style.names)


@dataclass
class Student:
    sid: str
    style: Style
    answers: dict[str, Answer | None]  # None: the stub left
    status: dict[str, str]  # question -> "right", "wrong:<mistake>" or "stub"
    extras: dict[str, str] = field(default_factory=dict)  # question -> a cell added after its check cell
    markdown: dict[str, str] = field(default_factory=dict)  # question -> a markdown cell before the answer's cell


def _cell_question(cell) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
    return grade_id.removesuffix("_solution") if grade_id.endswith("_solution") else ""


def _new_code(source: str, cell_id: str):
    return nbformat.v4.new_code_cell(source, id=cell_id)


def _new_markdown(source: str, cell_id: str):
    return nbformat.v4.new_markdown_cell(source, id=cell_id)


def _fill_cell(stub_source: str, body: str) -> str:
    stub_line = next(line for line in stub_source.splitlines() if line.strip() == "# VOTRE CODE ICI")
    indent = stub_line[: len(stub_line) - len(stub_line.lstrip())]
    indented = "\n".join(indent + line if line else line for line in body.split("\n"))
    return stub_source.replace(indent + STUB.replace("\n", "\n" + indent), indented)


def _cell_sources(student: Student, exercise, style: Style, reorder: bool = False) -> dict[str, str]:
    """The source of each question's cell; with ``reorder``, helpers go after the function."""
    sources = {}
    for cell in exercise.cells:
        question = _cell_question(cell)
        if not question:
            continue
        answer = student.answers.get(question)
        if answer is None:
            sources[question] = cell.source
            continue
        body = _render(answer.body, style, swap=reorder, salt=question)
        source = _fill_cell(cell.source, body)
        before = _render(answer.before, style, swap=reorder, salt=question + "b").strip("\n")
        after = _render(answer.after, style, swap=reorder, salt=question + "a").strip("\n")
        if before and reorder:
            after, before = _lines(after, before), ""
        if before:
            source = before + "\n\n\n" + source
        if after:
            source = source + "\n\n\n" + after
        sources[question] = source
    return sources


def _notebook(student: Student, exercise, sources: dict[str, str], plan: list | None = None):
    """The exercise notebook with the answers' cells (plan: extra edits (question, cell) for the reorderer)."""
    notebook = nbformat.from_dict(exercise)
    cells = []
    for cell in notebook.cells:
        question = _cell_question(cell)
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if question:
            if question in student.markdown:
                cells.append(_new_markdown(student.markdown[question], f"note-{question}"))
            cell.source = sources[question]
        cells.append(cell)
        if grade_id in student.extras:
            cells.append(_new_code(student.extras[grade_id], f"try-{grade_id}"))
    notebook.cells = cells
    return notebook


# -- the class -----------------------------------------------------------------------------------------

FIRST = [
    "lea",
    "hugo",
    "chloe",
    "lucas",
    "manon",
    "nathan",
    "ines",
    "theo",
    "camille",
    "yanis",
    "sarah",
    "louis",
    "jade",
    "adam",
    "emma",
    "noah",
    "lina",
    "gabriel",
    "zoe",
    "mathis",
    "clara",
    "rayan",
    "alice",
    "enzo",
    "julie",
    "tom",
    "anais",
    "malik",
    "lou",
    "victor",
    "salome",
    "amine",
    "eva",
    "paul",
    "nina",
    "axel",
    "rose",
    "samuel",
    "maelle",
    "ilyes",
    "agathe",
    "kylian",
]
LAST = [
    "martin",
    "bernard",
    "dubois",
    "thomas",
    "robert",
    "richard",
    "petit",
    "durand",
    "leroy",
    "moreau",
    "simon",
    "laurent",
    "lefebvre",
    "michel",
    "garcia",
    "david",
    "bertrand",
    "roux",
    "vincent",
    "fournier",
    "morel",
    "girard",
    "andre",
    "mercier",
    "dupont",
    "lambert",
    "bonnet",
    "francois",
    "martinez",
    "legrand",
    "garnier",
    "faure",
    "rousseau",
    "blanc",
    "guerin",
    "muller",
    "henry",
    "roussel",
    "nicolas",
    "perrin",
    "mathieu",
]

EXTRAS = {
    "rnn_cell_forward": "h_demo = rnn_cell_forward(torch.randn(2, 3), torch.zeros(2, 4), torch.randn(3, 4), "
    "torch.randn(4, 4), torch.zeros(4))\nprint(h_demo.shape)",
    "rnn_cell_loop": "print(rnn_cell_loop(nn.RNNCell(3, 4), torch.randn(2, 5, 3)).shape)",
    "gather_last_relevant_hidden": "print(gather_last_relevant_hidden(torch.randn(3, 4, 2), [1, 4, 2]))",
    "classify_hidden": "print(classify_hidden(torch.randn(1, 2, 8), nn.Linear(8, 3)).sum(dim=-1))",
    "many_to_one_logits": "test_logits = many_to_one_logits(nn.RNN(6, 8, batch_first=True), nn.Linear(8, 2), "
    "torch.randn(3, 5, 6), [5, 2, 3])\nprint(test_logits.shape)",
    "packed_last_hidden": "print(packed_last_hidden(nn.LSTM(6, 8, batch_first=True), torch.randn(3, 5, 6), "
    "[2, 5, 1]).shape)",
    "TASK_TYPES": "for task, family in TASK_TYPES.items():\n    print(f'{task:20s} -> {family}')",
    "hidden_gradient_norms": "norms_demo = hidden_gradient_norms(nn.RNNCell(4, 6), torch.randn(2, 15, 4))\n"
    "print(norms_demo)",
    "count_recurrent_parameters": 'for k in ("rnn", "gru", "lstm"):\n'
    "    print(k, count_recurrent_parameters(k, 16, 32, num_layers=2))",
    "gru_output_shapes": "print(gru_output_shapes(5, 10, 16, 32, num_layers=2, bidirectional=True))",
    "bigru_final_states": "print([s.shape for s in bigru_final_states(torch.randn(2, 3, 8), 4)])",
}
NOTES = {
    "fr": [
        "Ma réponse :",
        "Remarque : j'ai testé avec des petites tailles.",
        "J'ai mis du temps sur celle-ci.",
        "Réponse ci-dessous.",
    ],
    "en": ["My answer:", "Note: tested with small sizes first.", "Answer below."],
}


def _fingerprint(code: str) -> str:
    """The code with names, strings, comments, docstrings and layout normalised away."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]
        if isinstance(node, ast.Name):
            node.id = "_"
        elif isinstance(node, ast.arg):
            node.arg = "_"
        elif isinstance(node, ast.FunctionDef) and node.name not in QUESTIONS:
            node.name = "_"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree, annotate_fields=False)


def _draw_answer(r: random.Random, question: str, wrong: str | None) -> Answer:
    return GENERATORS[question](r, wrong)


def _new_student(sid: str, r: random.Random, stop_early: bool, mistakes: float = 0.14) -> Student:
    lang = _pick(r, None, None, "fr", "fr", "fr", "en")
    style = Style(_names(r), lang, r.choice([0.3, 0.6, 1.0]), r.randrange(10**6), r.random() < 0.3)
    answers: dict[str, Answer | None] = {}
    status: dict[str, str] = {}
    stop = r.randint(7, 10) if stop_early else len(QUESTIONS)
    for number, question in enumerate(QUESTIONS):
        if number >= stop:
            answers[question], status[question] = None, "stub"
            continue
        wrong = r.choice(MISTAKES[question]) if r.random() < mistakes else None
        answers[question] = _draw_answer(r, question, wrong)
        status[question] = f"wrong:{wrong}" if wrong else "right"
    student = Student(sid, style, answers, status)
    for question in QUESTIONS:
        if status[question] == "right" and r.random() < 0.08:
            student.extras[question] = EXTRAS[question]
        if lang and r.random() < 0.05:
            student.markdown[question] = r.choice(NOTES[lang])
    return student


def _redraw(student: Student, question: str, r: random.Random) -> None:
    status = student.status[question]
    if status == "stub":
        return
    wrong = status.removeprefix("wrong:") if status.startswith("wrong:") else None
    student.answers[question] = _draw_answer(r, question, wrong)


def _prints(student: Student, exercise) -> dict[str, str]:
    sources = _cell_sources(student, exercise, student.style)
    return {q: _fingerprint(sources[q]) for q in QUESTIONS}


CORRECT_KEYS = {
    "rnn_cell_forward": "rnn_cell_forward",
    "classify_hidden": "classify_hidden",
    "gru_output_shapes": "gru_output_shapes",
    "bigru_final_states": "bigru_final_states",
}


@dataclass
class Plan:
    students: list[Student]  # the independent ones, in file order
    copies: dict[str, tuple[str, str]]
    partial_questions: tuple[str, ...]
    one_liners: tuple[str, str]
    copiers: dict[str, Student]  # copier id -> its own (independent-looking) answers, for "partial"


def plan(seed: int = 11) -> Plan:
    """Who writes what: the independent students (with their answers' status) and the planted copies."""
    _check_names()
    r = random.Random(seed)
    people = [f"{first}_{last}" for first in FIRST for last in LAST]
    ids = r.sample(people, INDEPENDENT + 4)
    exercise = nbformat.read(EXERCISE, as_version=4)
    correct = _reference_answers()
    reference = _solution_answers()
    students: list[Student] = []
    seen: list[dict[str, str]] = []
    for number in range(INDEPENDENT):
        sr = random.Random(f"{seed}/{ids[number]}")
        stop_early = number >= 6 and sr.random() < 0.2  # the first six (originals, one-liners) finish
        student = _new_student(ids[number], sr, stop_early, mistakes=0.14 if number >= 6 else 0.08)
        if number in (4, 5):  # the one-liners: the reference solution's short answers, every other one their own
            for question in ONE_LINER_QUESTIONS:
                student.answers[question] = Answer(reference[question])
                student.status[question] = "right"
        elif number >= 6:  # the usual short answers, written by a good share of the class
            for question in ONE_LINER_QUESTIONS:
                if student.status[question] == "right" and sr.random() < 0.35:
                    usual = sr.choice([reference[question], textwrap.dedent(correct[CORRECT_KEYS[question]])])
                    student.answers[question] = Answer(usual.strip("\n"))
        prints = _prints(student, exercise)
        for _ in range(60):  # draw again until no other student wrote the same function for 2 long questions
            clashes = set()
            for other in seen:
                same = [q for q in LONG if prints[q] == other[q] and student.status[q] != "stub"]
                if len(same) > 1:
                    clashes.update(same[1:])
            if number == 5:  # nothing in common with the other one-liner, but the one-liners
                clashes.update(q for q in QUESTIONS if q not in ONE_LINER_QUESTIONS and prints[q] == seen[4][q])
            if not clashes:
                break
            for question in clashes:
                _redraw(student, question, sr)
            prints = _prints(student, exercise)
        students.append(student)
        seen.append(prints)
    partial_questions = tuple(sorted(r.sample(LONG, 3), key=QUESTIONS.index))
    copies = {
        ids[INDEPENDENT]: (students[0].sid, "verbatim"),
        ids[INDEPENDENT + 1]: (students[1].sid, "renamed"),
        ids[INDEPENDENT + 2]: (students[2].sid, "commented_reordered"),
        ids[INDEPENDENT + 3]: (students[3].sid, "partial"),
    }
    # The partial copier's own work: drawn until none of its 8 own answers is the original's.
    pid = ids[INDEPENDENT + 3]
    pr = random.Random(f"{seed}/{pid}")
    own = _new_student(pid, pr, stop_early=False)
    original = seen[3]
    for _ in range(60):
        prints = _prints(own, exercise)
        clashes = [q for q in QUESTIONS if q not in partial_questions and prints[q] == original[q]]
        if not clashes:
            break
        for question in clashes:
            _redraw(own, question, pr)
    return Plan(students, copies, partial_questions, (students[4].sid, students[5].sid), {pid: own})


def _reordered_notebook(student: Student, exercise, r: random.Random):
    """Comments added and changed, helpers after the functions, independent statements swapped, two answers
    moved into an earlier cell (a note left in theirs), one cell split in two."""
    lang = {"fr": "en", "en": "fr", None: r.choice(["fr", "en"])}[student.style.lang]
    style = Style(student.style.names, lang, 1.0, student.style.seed + 1, not student.style.blank_before_return)
    sources = _cell_sources(student, exercise, style, reorder=True)
    header = {"fr": "# Question : {q}", "en": "# Question: {q}"}[lang]
    for question in QUESTIONS:
        if student.answers[question] is not None:
            sources[question] = header.format(q=question) + "\n" + sources[question]
    moves = [("bigru_final_states", "gru_output_shapes"), ("classify_hidden", "gather_last_relevant_hidden")]
    note = {"fr": "# (réponse écrite plus haut, avec {q})", "en": "# (answered above, together with {q})"}[lang]
    for moved, into in moves:
        if student.answers[moved] is not None and student.answers[into] is not None:
            sources[into] = sources[into] + "\n\n\n" + sources[moved]
            sources[moved] = note.format(q=into)
    notebook = _notebook(student, exercise, sources)
    # split: the TASK_TYPES cell's answer goes into a new cell right after it (its check cell comes next)
    for index, cell in enumerate(notebook.cells):
        if _cell_question(cell) == "TASK_TYPES" and student.answers["TASK_TYPES"] is not None:
            if "TASK_TYPES = {}" in cell.source:
                cell.source, moved_part = cell.source.split("TASK_TYPES = {}", 1)
                cell.source = (cell.source + "TASK_TYPES = {}").strip("\n")
                notebook.cells.insert(index + 1, _new_code(moved_part.strip("\n"), "task-types-answer"))
            break
    return notebook


def _write(notebook, path: Path) -> None:
    """As nbformat.write lays a notebook out, without its (slow) schema validation on every file."""
    path.write_text(nbformat.v4.writes(notebook) + "\n", encoding="utf-8")


def make_class(folder: Path, seed: int = 11) -> TestClass:
    """Writes <student>.ipynb files (the exercise notebook filled in, not executed) into folder."""
    the_plan = plan(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    exercise = nbformat.read(EXERCISE, as_version=4)
    by_id = {s.sid: s for s in the_plan.students}
    rendered = {}
    for student in the_plan.students:
        sources = _cell_sources(student, exercise, student.style)
        rendered[student.sid] = sources
        _write(_notebook(student, exercise, sources), folder / f"{student.sid}.ipynb")
    r = random.Random(f"{seed}/copies")
    for copier, (original_id, kind) in the_plan.copies.items():
        original = by_id[original_id]
        if kind == "verbatim":
            (folder / f"{copier}.ipynb").write_bytes((folder / f"{original_id}.ipynb").read_bytes())
        elif kind == "renamed":
            style = Style(
                _renamed(original.style.names, r),
                original.style.lang,
                original.style.density,
                original.style.seed,
                original.style.blank_before_return,
            )
            sources = _cell_sources(original, exercise, style)
            _write(_notebook(original, exercise, sources), folder / f"{copier}.ipynb")
        elif kind == "commented_reordered":
            _write(_reordered_notebook(original, exercise, r), folder / f"{copier}.ipynb")
        else:
            own = the_plan.copiers[copier]
            sources = _cell_sources(own, exercise, own.style)
            for question in the_plan.partial_questions:
                sources[question] = rendered[original_id][question]
            _write(_notebook(own, exercise, sources), folder / f"{copier}.ipynb")
    return TestClass(
        folder=folder,
        independent=[s.sid for s in the_plan.students],
        copies=dict(the_plan.copies),
        partial_questions=the_plan.partial_questions,
        one_liners=the_plan.one_liners,
    )
