"""Language: French text that also carries its English version, for feedback in either language.

Students read French by default and English with ``--lang en``. A message built on the trusted
side (a hint, what was expected against what came back, a student's error) is a :class:`Text`:
a ``str`` whose value is the French, so everything that stores or prints it as before keeps the
French, with ``.en`` beside it. :func:`english` reads the English of any string (a plain ``str``,
such as a tensor shape or a variable name, is the same in both languages).
"""

from __future__ import annotations

import re

LANGUAGES = ("fr", "en")


class Text(str):
    """A French string that knows its English translation (``.en``)."""

    en: str

    def __new__(cls, fr: str, en: str | None = None) -> Text:
        text = super().__new__(cls, fr)
        text.en = english(fr) if en is None else en
        return text

    def __reduce__(self) -> tuple:
        # Pickled across processes (worker lanes) with both languages.
        return (Text, (str(self), self.en))


def english(text: str) -> str:
    """The English of ``text``: its ``.en`` when it is a :class:`Text`, the text itself otherwise."""
    return getattr(text, "en", text)


def in_language(text: str, lang: str) -> str:
    return english(text) if lang == "en" else str(text)


def join(*parts: str, sep: str = "") -> Text:
    """Both languages of ``parts`` joined, each part in its own language."""
    return Text(sep.join(str(p) for p in parts), sep.join(english(p) for p in parts))


def fr_en(fr: str, en: str, **values: object) -> Text:
    """A sentence in both languages from two templates and shared values; a :class:`Text` value
    is put in each template in that template's language."""
    return Text(
        fr.format(**{k: str(v) if isinstance(v, str) else v for k, v in values.items()}),
        en.format(**{k: english(v) if isinstance(v, str) else v for k, v in values.items()}),
    )


# -- the timer's message, which the sandbox's runtime raises and the grader's wording reuses -------------------
def time_limit_exceeded(seconds: float) -> Text:
    """A call (or, in this process, a cell) stopped by its timer, for the student; the rest of the limits'
    wording is in :mod:`autograder.reports.wording`, which the sandbox may not import."""
    return Text(f"limite de temps dépassée ({seconds:g} s)", f"time limit exceeded ({seconds:g} s)")


# -- the grader's note in a student's output ------------------------------------------------------------
# Output crosses the sandbox as plain text, so the note the worker appends to output it cut is French there,
# and put in the page's language when the page is made.
_DROPPED_OUTPUT = re.compile(r"\[… (\d+) caractères de sortie non conservés\]")


def dropped_output_note(count: int) -> str:
    """The note appended to output cut at its cap (French; :func:`output_in_language` gives its English)."""
    return f"[… {count} caractères de sortie non conservés]"


def output_in_language(text: str, lang: str) -> str:
    """A student's output with the grader's own notes in it in ``lang``."""
    text = in_language(text, lang)
    return _DROPPED_OUTPUT.sub(r"[… \1 characters of output not kept]", text) if lang == "en" else text


# -- French typography (the students' pages) --------------------------------------------------------------
# A non-breaking space before « : ; ? ! » and inside « », so that a line never starts with one of these marks
# (a title wrapped before its colon on a phone): U+00A0 before « : » and « », a narrow one (U+202F) before
# « ; ? ! », as French typography has them. Only spaces already there are replaced: « a:b » or « x[:, 0] » stay.
NBSP, NNBSP = "\u00a0", "\u202f"
_SPACE_BEFORE_MARK = re.compile(r"[ \t]+([:;?!»])")
_SPACE_AFTER_GUILLEMET = re.compile(r"«[ \t]+")


def french_spacing(text: str) -> str:
    """``text`` with the spaces before « : ; ? ! » and inside « » made non-breaking."""
    text = _SPACE_BEFORE_MARK.sub(lambda m: (NBSP if m[1] in ":»" else NNBSP) + m[1], text)
    return _SPACE_AFTER_GUILLEMET.sub("«" + NBSP, text)
