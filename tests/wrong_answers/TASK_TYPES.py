"""Typical wrong answers to TASK_TYPES: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    "translation_many_to_one": """
TASK_TYPES = {
    "pos_tag_of_word": "one-to-one",
    "generate_review": "one-to-many",
    "review_sentiment": "many-to-one",
    "translation": "many-to-one",
    "risk_at_each_step": "many-to-many",
}
""",
    "risk_at_each_step_many_to_one": """
TASK_TYPES = {
    "pos_tag_of_word": "one-to-one",
    "generate_review": "one-to-many",
    "review_sentiment": "many-to-one",
    "translation": "many-to-many",
    "risk_at_each_step": "many-to-one",
}
""",
    "generate_review_many_to_many": """
TASK_TYPES = {
    "pos_tag_of_word": "one-to-one",
    "generate_review": "many-to-many",
    "review_sentiment": "many-to-one",
    "translation": "many-to-many",
    "risk_at_each_step": "many-to-many",
}
""",
    # Names read output -> input: one output from many inputs taken as "one-to-many", and the reverse.
    "review_sentiment_reversed": """
TASK_TYPES = {
    "pos_tag_of_word": "one-to-one",
    "generate_review": "many-to-one",
    "review_sentiment": "one-to-many",
    "translation": "many-to-many",
    "risk_at_each_step": "many-to-many",
}
""",
    # Part-of-speech tagging of a whole sentence, not of one isolated word.
    "pos_tag_word_as_sequence": """
TASK_TYPES = {
    "pos_tag_of_word": "many-to-many",
    "generate_review": "one-to-many",
    "review_sentiment": "many-to-one",
    "translation": "many-to-many",
    "risk_at_each_step": "many-to-many",
}
""",
    "task_type_spelling": """
TASK_TYPES = {
    "pos_tag_of_word": "one-to-one",
    "generate_review": "one-to-many",
    "review_sentiment": "many to one",
    "translation": "many_to_many",
    "risk_at_each_step": "Many-to-many",
}
""",
    "task_types_missing_key": """
TASK_TYPES = {
    "pos_tag_of_word": "one-to-one",
    "generate_review": "one-to-many",
    "review_sentiment": "many-to-one",
    "translation": "many-to-many",
}
""",
    # A mapping of its own: not a dict (an OrderedDict or a defaultdict is read as the dict it is).
    "unusable_result": """
from collections.abc import Mapping


class TaskTypes(Mapping):
    def __init__(self, **families):
        self._families = families

    def __getitem__(self, key):
        return self._families[key]

    def __iter__(self):
        return iter(self._families)

    def __len__(self):
        return len(self._families)


TASK_TYPES = TaskTypes(
    pos_tag_of_word="one-to-one",
    generate_review="one-to-many",
    review_sentiment="many-to-one",
    translation="many-to-many",
    risk_at_each_step="many-to-many",
)
""",
}
