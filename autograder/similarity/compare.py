"""Compare: which pairs of students share rare code, question by question.

Evidence is weighed by rarity, per question. A fingerprint that more than :func:`common_cutoff`
students have is the class's natural answer and counts for nothing (it is dropped, and so is
everything the lab gave and its reference answers, before). A rarer one that two students share
counts ``1 / (holders - 1)``: fully when only they have it, half when a third student has it too.
A pair's similarity on a question is that weight over the smaller of their two answers (in
fingerprints, at least :data:`MIN_FINGERPRINTS`, so that a three-token answer cannot look copied),
at most 1; the pair's score is the sum over questions: how many questions' worth of rare code they
share. Pairs come from an index of fingerprint to holders: each rare fingerprint adds to the
pairs of its holders, and no two answers are ever compared whole.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from autograder.similarity import DEFAULT_THRESHOLD
from autograder.similarity.answers import Answer
from autograder.similarity.fingerprints import (
    Alphabet,
    Fingerprints,
    boilerplate_of,
    fingerprints,
    highlighted,
    normalise,
)

COMMON_SHARE = 0.1  # a fingerprint more than this share of the class has is nobody's evidence
MIN_FINGERPRINTS = 12  # an answer is weighed as if it had at least this many fingerprints (about 50 tokens)
HALF = 0.5  # a question counts as shared at this similarity


@dataclass(frozen=True)
class SharedQuestion:
    """One question of a pair, side by side: each answer cut into (text, shared) pieces."""

    question: str
    similarity: float  # 0..1
    left: tuple[tuple[str, bool], ...]
    right: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    score: float  # the sum of the questions' similarities
    similarities: tuple[tuple[str, float], ...]  # (question, 0..1) where they share rare code, in order

    @property
    def questions_shared(self) -> int:
        return sum(value >= HALF for _, value in self.similarities)


@dataclass(frozen=True)
class Detection:
    students: int  # compared: students with at least one answer fingerprinted
    questions: tuple[str, ...]
    pairs: tuple[Pair, ...]  # every pair sharing rare code, the highest score first
    threshold: float
    cutoff: int  # a fingerprint more than this many students have is common
    prints: Mapping[str, Mapping[str, Fingerprints]] = field(repr=False, default_factory=dict)
    shared: Mapping[tuple[str, str, str], list[int]] = field(repr=False, default_factory=dict)

    @property
    def flagged(self) -> tuple[Pair, ...]:
        return tuple(pair for pair in self.pairs if pair.score >= self.threshold)

    @property
    def clusters(self) -> list[list[str]]:
        """Groups of three or more students joined by flagged pairs."""
        parent: dict[str, str] = {}

        def root(student: str) -> str:
            while parent.setdefault(student, student) != student:
                student = parent[student]
            return student

        for pair in self.flagged:
            parent[root(pair.first)] = root(pair.second)
        groups: dict[str, list[str]] = defaultdict(list)
        for student in parent:
            groups[root(student)].append(student)
        return sorted((sorted(group) for group in groups.values() if len(group) >= 3), key=lambda g: (-len(g), g))

    def side_by_side(self, pair: Pair) -> list[SharedQuestion]:
        """The pair's shared questions with both answers, the rare runs they share lit."""
        found = []
        for question, value in pair.similarities:
            hashes = self.shared[(pair.first, pair.second, question)]
            left, right = self.prints[question][pair.first], self.prints[question][pair.second]
            left_starts = [start for h in hashes for start in left.positions[h]]
            right_starts = [start for h in hashes for start in right.positions[h]]
            lit = highlighted(left.document, left_starts), highlighted(right.document, right_starts)
            found.append(SharedQuestion(question, value, tuple(lit[0]), tuple(lit[1])))
        return found


def rarity(holders: int, students: int) -> float:
    """What a fingerprint that ``holders`` of ``students`` have weighs: its inverse document frequency,
    1 when only two students have it, less the more students do (0 from the common cutoff on)."""
    if holders > common_cutoff(students):
        return 0.0
    return math.log(students / holders) / math.log(students / 2) if students > 2 else 1.0


def common_cutoff(students: int) -> int:
    return max(2, math.ceil(COMMON_SHARE * students))


def detect(
    answers: Mapping[str, Mapping[str, Answer]],
    questions: Sequence[str],
    given: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
) -> Detection:
    """Pairs of students by the rare code they share; ``given`` is the code every student received
    (the lab's code and its reference answers), which is nobody's evidence."""
    alphabet = Alphabet()
    plate = boilerplate_of(list(given), alphabet)
    prints: dict[str, dict[str, Fingerprints]] = {question: {} for question in questions}
    for student, theirs in answers.items():
        for question, answer in theirs.items():
            if question in prints:
                found = fingerprints(normalise(answer.text, alphabet), plate)
                if found.positions:
                    prints[question][student] = found
    students = len({student for by_student in prints.values() for student in by_student})
    cutoff = common_cutoff(students)
    similarity: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    shared_hashes: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for question, by_student in prints.items():
        holders: dict[int, list[str]] = defaultdict(list)
        for student, found in by_student.items():
            for value in found.positions:
                holders[value].append(student)
        common = {value for value, who in holders.items() if len(who) > cutoff}
        size = {student: len(found.positions.keys() - common) for student, found in by_student.items()}
        weight: dict[tuple[str, str], float] = defaultdict(float)
        for value, who in holders.items():
            if 2 <= len(who) <= cutoff:
                for index, first in enumerate(sorted(who)):
                    for second in sorted(who)[index + 1 :]:
                        weight[(first, second)] += rarity(len(who), students)
                        shared_hashes[(first, second, question)].append(value)
        for (first, second), total in weight.items():
            smaller = max(MIN_FINGERPRINTS, min(size[first], size[second]))
            similarity[(first, second)][question] = min(1.0, total / smaller)
    pairs = [
        Pair(
            first, second, sum(by_question.values()), tuple((q, by_question[q]) for q in questions if q in by_question)
        )
        for (first, second), by_question in similarity.items()
    ]
    pairs.sort(key=lambda pair: (-pair.score, pair.first, pair.second))
    return Detection(students, tuple(questions), tuple(pairs), threshold, cutoff, prints, shared_hashes)
