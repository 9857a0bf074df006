"""TASK_TYPES: each of the five tasks mapped to its family: one-to-one, one-to-many, many-to-one or many-to-many."""

import re

import pytest

from autograder.testing import Hint, Mistake, Returns, StudentFunction, Text, expect_equal, fr_en, shown, title

# What TASK_TYPES holds, as students read it.
RETURNS = Returns(
    Text(
        "un dict ordinaire qui associe à chaque tâche (une chaîne) sa famille (une chaîne)",
        "a plain dict that maps each task (a string) to its family (a string)",
    ),
    "dict",
)

FAMILIES = ("one-to-one", "one-to-many", "many-to-one", "many-to-many")

# The contract's answer, as the notebook describes each example.
EXPECTED = {
    "pos_tag_of_word": "one-to-one",  # one isolated word -> its part of speech
    "generate_review": "one-to-many",  # one rating -> a text, word after word
    "review_sentiment": "many-to-one",  # all the words of a review -> positive or negative
    "translation": "many-to-many",  # a sentence read -> a sentence written
    "risk_at_each_step": "many-to-many",  # one measure a day -> a risk every day
}

WRONG_FAMILY = Hint(
    "task_family_wrong",
    "Relisez la description de la tâche : le modèle lit-il une seule entrée ou une séquence ? "
    "Produit-il une seule sortie ou une séquence de sorties ?",
    "Read the task's description again: does the model read a single input or a sequence? Does it produce a "
    "single output or a sequence of outputs?",
)
SPELLING = Hint(
    "task_type_spelling",
    "Écrivez la famille exactement comme dans l'énoncé : "
    '"one-to-one", "one-to-many", "many-to-one" ou "many-to-many" (en minuscules, avec des tirets).',
    'Write the family exactly as in the instructions: "one-to-one", "one-to-many", "many-to-one" or '
    '"many-to-many" (lower case, with hyphens).',
)
NOT_A_FAMILY = Hint(
    "task_type_not_a_family",
    'Chaque valeur doit être l\'une des quatre chaînes "one-to-one", "one-to-many", "many-to-one" ou "many-to-many".',
    'Each value must be one of the four strings "one-to-one", "one-to-many", "many-to-one" or "many-to-many".',
)
MISSING_KEY = Hint(
    "task_types_missing_key",
    "Il manque une ou plusieurs tâches dans TASK_TYPES : gardez exactement les cinq clés de l'énoncé, "
    "orthographiées de la même façon.",
    "One or more tasks are missing from TASK_TYPES: keep exactly the five keys of the instructions, spelt the "
    "same way.",
)
UNKNOWN_KEY = Hint(
    "task_types_unknown_key",
    "TASK_TYPES contient des clés qui ne sont pas dans l'énoncé : gardez exactement les cinq clés données.",
    "TASK_TYPES holds keys that are not in the instructions: keep exactly the five keys given.",
)
NOT_A_DICT = Hint(
    "task_types_not_a_dict",
    'TASK_TYPES doit être un dictionnaire {tâche: famille}, écrit entre accolades, par exemple {"translation": "..."}.',
    'TASK_TYPES must be a dictionary {task: family}, written with braces, for example {"translation": "..."}.',
)

POS_TAG_AS_SEQUENCE = Hint(
    "pos_tag_word_as_sequence",
    "Ici, on donne un mot isolé et le modèle prédit une seule catégorie : il n'y a de séquence ni en entrée "
    "ni en sortie (étiqueter tous les mots d'une phrase serait une autre tâche).",
    "Here, the model is given a single word and predicts a single category: there is no sequence, neither in "
    "the input nor in the output (tagging every word of a sentence would be another task).",
)
GENERATE_REVIEW_MANY_TO_MANY = Hint(
    "generate_review_many_to_many",
    "Le texte produit est bien une séquence, mais l'entrée est une seule note, pas une séquence : "
    "le modèle part d'une entrée unique.",
    "The text produced is indeed a sequence, but the input is a single rating, not a sequence: the model "
    "starts from a single input.",
)
GENERATE_REVIEW_REVERSED = Hint(
    "generate_review_reversed",
    "Lisez le nom de la famille dans le sens entrée → sortie : ici, le modèle reçoit une note (une seule entrée) "
    "et écrit un texte (une séquence de mots).",
    "Read the family's name in the input → output direction: here, the model receives a rating (a single "
    "input) and writes a text (a sequence of words).",
)
REVIEW_SENTIMENT_REVERSED = Hint(
    "review_sentiment_reversed",
    "Lisez le nom de la famille dans le sens entrée → sortie : le modèle lit beaucoup de mots (l'entrée est "
    "une séquence) et ne donne qu'une réponse à la fin.",
    "Read the family's name in the input → output direction: the model reads many words (the input is a "
    "sequence) and gives only one answer at the end.",
)
REVIEW_SENTIMENT_MANY_TO_MANY = Hint(
    "review_sentiment_many_to_many",
    "Le modèle ne produit qu'une seule sortie, après avoir lu toute la critique, et non une sortie par mot.",
    "The model produces a single output, after reading the whole review, not one output per word.",
)
TRANSLATION_MANY_TO_ONE = Hint(
    "translation_many_to_one",
    "Une traduction n'est pas une sortie unique : après avoir lu la phrase, le modèle écrit toute une phrase, "
    "une séquence de mots.",
    "A translation is not a single output: after reading the sentence, the model writes a whole sentence, a "
    "sequence of words.",
)
TRANSLATION_ONE_TO_MANY = Hint(
    "translation_one_to_many",
    "L'entrée d'une traduction est une phrase entière, lue mot après mot : c'est une séquence, pas une entrée unique.",
    "The input of a translation is a whole sentence, read word by word: it is a sequence, not a single input.",
)
RISK_MANY_TO_ONE = Hint(
    "risk_at_each_step_many_to_one",
    "Le modèle prédit le risque chaque jour, pas une seule fois à la fin : il produit une sortie par pas de temps, "
    "donc une séquence de sorties.",
    "The model predicts the risk every day, not once at the end: it produces one output per time step, hence a"
    " sequence of outputs.",
)

# For each task, the families a student typically confuses it with (one hint per wrong answer).
CONFUSIONS = {
    "pos_tag_of_word": [(POS_TAG_AS_SEQUENCE, "many-to-many"), (POS_TAG_AS_SEQUENCE, "many-to-one")],
    "generate_review": [(GENERATE_REVIEW_MANY_TO_MANY, "many-to-many"), (GENERATE_REVIEW_REVERSED, "many-to-one")],
    "review_sentiment": [
        (REVIEW_SENTIMENT_REVERSED, "one-to-many"),
        (REVIEW_SENTIMENT_MANY_TO_MANY, "many-to-many"),
    ],
    "translation": [(TRANSLATION_MANY_TO_ONE, "many-to-one"), (TRANSLATION_ONE_TO_MANY, "one-to-many")],
    "risk_at_each_step": [(RISK_MANY_TO_ONE, "many-to-one")],
}


def _family(value):
    """The canonical family a value spells, whatever its case and separators ("Many to one" -> "many-to-one")."""
    if not isinstance(value, str):
        return value
    letters = re.sub(r"[^a-z]", "", value.lower())
    for family in FAMILIES:
        if letters == family.replace("-", ""):
            return family
    return value


def _mistakes(family, pairs):
    """One value per hint for expect_equal: of a hint's families, the one the student gave if any."""
    chosen = {}
    for hint, value in pairs:
        if hint not in chosen or value == family:
            chosen[hint] = value
    return chosen


def _task_types(student):
    """The student's dict (a dict subclass, refused on its way here, fails the test with its own message)."""
    task_types = student.TASK_TYPES
    if isinstance(task_types, StudentFunction):
        raise Mistake(NOT_A_DICT, fr_en("TASK_TYPES est une fonction", "TASK_TYPES is a function"))
    if not isinstance(task_types, dict):
        raise Mistake(
            NOT_A_DICT,
            fr_en(
                "TASK_TYPES est de type {t} : {v}",
                "TASK_TYPES is of type {t}: {v}",
                t=type(task_types).__name__,
                v=shown(task_types),
            ),
        )
    return task_types


def _expect_a_string(task, got):
    """The contract's values are strings: a family written in another way (a list, a number) is named as such."""
    if not isinstance(got, str):
        raise Mistake(
            NOT_A_FAMILY,
            fr_en(
                "TASK_TYPES[{k}] vaut {g}, de type {t}",
                "TASK_TYPES[{k}] is {g}, of type {t}",
                k=repr(task),
                g=shown(got),
                t=type(got).__name__,
            ),
        )


@pytest.mark.parametrize("task", list(EXPECTED))
@title(
    "La tâche {task} est rangée dans la bonne famille, écrite comme dans l'énoncé.",
    "The task {task} is put in the right family, written as in the instructions.",
)
def test_task_family(student, task):
    task_types = _task_types(student)
    if task not in task_types:
        raise Mistake(
            MISSING_KEY,
            fr_en("la clé {k} est absente de TASK_TYPES", "the key {k} is missing from TASK_TYPES", k=repr(task)),
        )
    got = task_types[task]
    _expect_a_string(task, got)
    family = _family(got)
    what = f"TASK_TYPES[{task!r}]"
    try:
        expect_equal(family, EXPECTED[task], WRONG_FAMILY, _mistakes(family, CONFUSIONS[task]), what=what)
    except Mistake as mistake:  # the hint, but not the right answer: the student reads this feedback
        raise Mistake(
            mistake.hint, fr_en("{w} : {g} ne convient pas", "{w}: {g} does not fit", w=what, g=shown(got))
        ) from None
    expect_equal(got, EXPECTED[task], SPELLING, what=what)


@title(
    "Les cinq tâches sont présentes, sans clé en trop, chacune avec l'une des quatre familles.",
    "The five tasks are present, with no extra key, each with one of the four families.",
)
def test_every_task_has_an_allowed_family(student):
    task_types = _task_types(student)
    missing = sorted(set(EXPECTED) - set(task_types))
    if missing:
        raise Mistake(MISSING_KEY, fr_en("clés manquantes : {k}", "missing keys: {k}", k=", ".join(map(repr, missing))))
    extra = [key for key in task_types if key not in EXPECTED]
    if extra:
        raise Mistake(UNKNOWN_KEY, fr_en("clés en trop : {k}", "extra keys: {k}", k=shown(extra)))
    for task, got in task_types.items():
        _expect_a_string(task, got)
        if got not in FAMILIES:
            hint = SPELLING if _family(got) in FAMILIES else NOT_A_FAMILY
            raise Mistake(hint, fr_en("TASK_TYPES[{k}] vaut {g}", "TASK_TYPES[{k}] is {g}", k=repr(task), g=shown(got)))
