"""Scoring: test outcomes become question scores and a student's total (pure, no I/O).

A question's points are shared among its tests in proportion to their weights (1 each unless
``assignment.yaml`` says otherwise); a passed test earns its share, any other ending earns 0.
Question scores are rounded to hundredths and the total is the sum of the rounded scores, so
the gradebook's columns always add up to its total.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Sequence

from autograder.assignment import Assignment, Question
from autograder.language import Text, english
from autograder.reports.gradebook import REPORT_BUDGET_BYTES
from autograder.results import CellRun, ErrorInfo, Outcome, QuestionResult, Status, StudentResult, TestOutcome


def score_question(question: Question, outcomes: Sequence[TestOutcome]) -> QuestionResult:
    tests = tuple(o for o in outcomes if o.question == question.id)
    total_weight = sum(o.weight for o in tests)
    if not tests or total_weight <= 0:
        return QuestionResult(question.id, 0.0, question.points, tests, (0.0,) * len(tests), "aucun test n'a tourné")
    shares = tuple(question.points * o.weight / total_weight for o in tests)
    # A property (arguments left alone) is worth its points beside a right value, not for a constant of the
    # right shape: with no test of the values passed, the property tests passed earn nothing.
    valued = any(o.outcome is Outcome.PASSED and not o.property_only for o in tests)
    scores = tuple(
        round(s, 4) if o.outcome is Outcome.PASSED and (valued or not o.property_only) else 0.0
        for s, o in zip(shares, tests, strict=True)
    )
    return QuestionResult(question.id, round(sum(scores), 2), question.points, tests, scores, _reason(tests))


def _reason(tests: Sequence[TestOutcome]) -> str:
    """Why a question scored nothing at all, when every test ended the same way for one reason."""
    messages = {o.message for o in tests if o.hint == "missing_definition"}
    if len(messages) == 1 and all(o.hint == "missing_definition" for o in tests):
        return messages.pop()
    return ""


def score_student(
    student: str,
    assignment: Assignment,
    outcomes: Sequence[TestOutcome],
    cells: Sequence[CellRun] = (),
    source: str = "",
    seconds: float = 0.0,
) -> StudentResult:
    questions = tuple(score_question(q, outcomes) for q in assignment.questions)
    total = round(sum(q.score for q in questions), 2)
    result = StudentResult(
        student=student,
        status=Status.GRADED,
        score=total,
        max_score=assignment.max_score,
        questions=questions,
        cells=tuple(cells),
        source=source,
        seconds=seconds,
    )
    return fit_report_budget(result)


def not_graded(student: str, assignment: Assignment, status: Status, message: str, source: str = "") -> StudentResult:
    """The row of a submission that could not be graded: 0 on every question, and why."""
    questions = tuple(QuestionResult(q.id, 0.0, q.points, (), (), reason=message) for q in assignment.questions)
    return StudentResult(student, status, 0.0, assignment.max_score, questions, source=source, message=message)


# -- the report budget ---------------------------------------------------------------------------------
# Whatever a notebook prints or raises, its results JSON and its feedback page stay small: the text that
# comes from the student's code (outputs, errors, tracebacks, test messages) is kept up to a budget,
# counted as those files write it (UTF-8, escaped for JSON and for HTML), and cut past it with a note.
MAX_REPORTED_CELLS = 100  # cells to look at (failed, or stopped by a limit) listed; the others are counted
CELL_BYTES = 600  # a listed cell's own layout in either file (its number, boxes, a limit's sentence)
FRAME_BYTES = 200  # a traceback line's own layout in either file
MAX_JSON_COPIES = 2  # a test's message is in the results JSON twice (``tests`` and ``questions``)
MAX_TYPE_CHARS = 100  # an exception's type name is kept whole up to this, whatever the budget


def cut_note(characters: int, first: bool) -> Text:
    """The note that ends a text the budget cut: the first one says why, the others only how much."""
    fr = f"[… {characters} caractère{'s' if characters > 1 else ''} coupé{'s' if characters > 1 else ''}"
    en = f"[… {characters} character{'s' if characters != 1 else ''} cut"
    if not first:
        return Text(f"{fr}]", f"{en}]")
    kb = REPORT_BUDGET_BYTES // 1000
    return Text(
        f"{fr} : les sorties et les erreurs de ce notebook dépassent la taille permise pour un retour ({kb} ko)]",
        f"{en}: this notebook's outputs and errors go beyond the size allowed for feedback ({kb} kB)]",
    )


def fit_report_budget(result: StudentResult, budget: int = REPORT_BUDGET_BYTES) -> StudentResult:
    """``result`` with the texts its student's code produced cut to ``budget`` bytes as the reports write them.

    The texts are taken in the order a reader meets them (each question's reason and tests, then the
    cells to look at): each is kept whole while it fits; the first that does not is cut with a note
    saying why, the later ones are left as a short note of what was cut, and tracebacks past that
    point are dropped. Only the first ``MAX_REPORTED_CELLS`` cells to look at are kept; ``cut_cells``
    counts the others. Scores, statuses and the tests themselves are never touched. A text counts as
    the larger of what it takes in the results JSON (as many times as the JSON holds it) and on the
    feedback page (in either language), escaped; so each file holds at most ``budget`` bytes of such
    text and of the kept cells' and traceback lines' layout, besides its own fixed layout. Pure.
    """
    reported = [index for index, run in enumerate(result.cells) if not run.ok or run.limit]
    kept, dropped = reported[:MAX_REPORTED_CELLS], set(reported[MAX_REPORTED_CELLS:])
    errors = [t.error for q in result.questions for t in q.tests if t.error is not None]
    cell_errors = [error for index in kept if (error := result.cells[index].error) is not None]
    # What is paid before any text: the kept cells' layout, their errors' type names (always shown whole)
    # and every note that may end a field (a question's reason; a test's messages and error; a cell's
    # error and output; two more in the traceback line where the budget runs out).
    layout = CELL_BYTES * len(kept)
    layout += sum(_bytes(_type_name(e.type_name), 0) for e in errors)
    layout += sum(_bytes(_type_name(e.type_name), 1) for e in cell_errors)
    tests = sum(len(q.tests) for q in result.questions)
    walk = _Budget(budget - layout, notes=len(result.questions) + 3 * tests + 2 * len(kept) + 2)
    questions = tuple(
        dataclasses.replace(
            question,
            reason=walk.fit(question.reason, json_copies=1),
            tests=tuple(_fit_test(walk, test) for test in question.tests),
        )
        for question in result.questions
    )
    fitted = {index: _fit_cell(walk, result.cells[index]) for index in kept}
    if not walk.cut and not dropped and not walk.mended:
        return result
    cells = tuple(fitted.get(index, run) for index, run in enumerate(result.cells) if index not in dropped)
    return dataclasses.replace(
        result, questions=questions, cells=cells, cut_characters=walk.cut, cut_cells=len(dropped)
    )


def _fit_test(walk: _Budget, test: TestOutcome) -> TestOutcome:
    message = walk.fit(test.message, json_copies=MAX_JSON_COPIES)
    message_en = english(walk.fit(test.message_en, json_copies=0))  # the English field keeps the English note
    error = None if test.error is None else walk.fit_error(test.error, json_copies=0)  # on the page only
    return dataclasses.replace(test, message=message, message_en=message_en, error=error)


def _fit_cell(walk: _Budget, run: CellRun) -> CellRun:
    error = None if run.error is None else walk.fit_error(run.error, json_copies=1)
    return dataclasses.replace(run, error=error, output=walk.fit(run.output, json_copies=1))


class _Budget:
    """The bytes left for a student's texts, spent in order, and the characters cut so far."""

    def __init__(self, budget: int, notes: int) -> None:
        # The notes' room is set aside first (one full note, ``notes`` short ones): a note is never cut.
        self.full_note = _note_bytes(cut_note(10**12, first=True), MAX_JSON_COPIES)
        self.room = budget - self.full_note - notes * _note_bytes(cut_note(10**12, first=False), MAX_JSON_COPIES)
        self.cut = 0
        self.first = True
        self.mended = False  # a text was made valid Unicode

    def fit(self, text: str, json_copies: int) -> str:
        """``text`` whole if it fits, else its beginning and a note, in both languages."""
        if not text:
            return text
        raw_fr, raw_en = str(text), getattr(text, "en", None)
        if self.room <= 0 and not self.first:  # nothing more fits: only counted (nor read, nor measured)
            self.cut += len(raw_fr)
            note = cut_note(len(raw_fr), first=False)
            return Text(str(note), note.en)
        in_french = _valid(raw_fr)
        in_english = in_french if raw_en is None else _valid(raw_en)
        # A character takes a byte at least: a text longer than the room is not measured whole.
        cost = self.room + 1
        if max(len(in_french), len(in_english)) <= self.room:
            cost = max(_bytes(in_french, json_copies), _bytes(in_english, 0))
        if cost <= self.room:
            self.room -= cost
            if in_french is raw_fr and (raw_en is None or in_english is raw_en):
                return text
            self.mended = True
            return Text(in_french, in_english)
        first, self.first = self.first, False
        if first:  # the full note is paid from its own reserve; what it did not need goes back
            self.room += self.full_note - _note_bytes(cut_note(len(in_french), first=True), json_copies)
        kept_fr = _prefix(in_french, self.room, json_copies)
        kept_en = kept_fr if raw_en is None else _prefix(in_english, self.room, 0)
        self.room -= max(_bytes(kept_fr, json_copies), _bytes(kept_en, 0))
        self.cut += len(in_french) - len(kept_fr)
        note = cut_note(len(in_french) - len(kept_fr), first)
        return Text(_join(kept_fr, str(note)), _join(kept_en, note.en))

    def fit_error(self, error: ErrorInfo, json_copies: int) -> ErrorInfo:
        type_name, message = _type_name(error.type_name), self.fit(error.message, json_copies)
        if type_name is not error.type_name:  # shortened, or made valid Unicode
            self.mended = True
            self.cut += max(0, len(error.type_name) - MAX_TYPE_CHARS)
        frames = []
        for index, frame in enumerate(error.frames):
            if self.room < FRAME_BYTES:  # past the point where the budget ran out: the rest is counted
                self.cut += sum(len(f.function) + len(f.text) for f in error.frames[index:])
                break
            self.room -= FRAME_BYTES
            function, text = self.fit(frame.function, json_copies), self.fit(frame.text, json_copies)
            frames.append(dataclasses.replace(frame, function=function, text=text))
        return dataclasses.replace(error, type_name=type_name, message=message, frames=tuple(frames))


def _type_name(name: str) -> str:
    name = _valid(name)
    return name if len(name) <= MAX_TYPE_CHARS else name[:MAX_TYPE_CHARS] + "…"


def _join(kept: str, note: str) -> str:
    return f"{kept} {note}" if kept else note


def _note_bytes(note: Text, json_copies: int) -> int:
    """What a note takes, with the space before it."""
    return max(_bytes(f" {note}", json_copies), _bytes(f" {note.en}", 0))


def _bytes(text: str, json_copies: int) -> int:
    """What ``text`` takes in the reports: UTF-8, escaped for JSON (``json_copies`` times, quotes aside)
    or for HTML (once), whichever is larger."""
    if not text:
        return 0
    in_json = json_copies * (len(json.dumps(text, ensure_ascii=False).encode()) - 2) if json_copies else 0
    return max(in_json, len(html.escape(text).encode()))


def _prefix(text: str, room: int, json_copies: int) -> str:
    """The longest beginning of ``text`` that takes at most ``room`` bytes (a character takes one at least)."""
    low, high = 0, max(0, min(len(text), room))
    while low < high:
        middle = (low + high + 1) // 2
        if _bytes(text[:middle], json_copies) <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def _valid(text: str) -> str:
    """``text`` as valid Unicode (the same object when it is): a lone surrogate, which a worker may send,
    cannot be written as UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text
