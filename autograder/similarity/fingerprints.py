"""Fingerprints: an answer's code as tokens with what hides a copy taken out, then winnowed.

Normalising, with Python's own tokenizer: comments and blank space go (docstrings went with the
answer's extraction); every string becomes one token ``S`` (numbers stay: a formula's constants are
its substance); a name becomes ``V`` unless it is a keyword, a name after a dot (``torch.gather``'s
``gather``: an API, which renaming a copy does not change), or one of the libraries and builtins a
lab's code calls (``torch``, ``nn``, ``F``, ``len``, ``range``...). Each remaining token is one
character of a private alphabet, so that a k-gram is k tokens, and each character remembers the
span of source it stands for, to highlight it later.

Winnowing is copydetect's (:func:`copydetect.utils.winnow`: Schleimer, Wilkerson and Aiken, SIGMOD
2003, the minimum of each window, so that any shared run of ``k + window - 1`` tokens yields at
least one shared fingerprint), over hashes of every k-gram. The k-grams are hashed here rather than
by copydetect's ``hashed_kgrams``, which uses Python's ``hash()``: salted per process, it would give
another choice of fingerprints, and slightly other scores, at every run. The fingerprints of what
everyone received (the lab's given code and its reference answers) are removed as boilerplate.
"""

from __future__ import annotations

import builtins
import io
import keyword
import token
import tokenize
from dataclasses import dataclass, field

import numpy as np

K = 15  # tokens per k-gram: a statement or two; shorter runs are no evidence
WINDOW = 4  # winnowing window: any shared run of K + WINDOW - 1 = 18 tokens is seen
KEPT_NAMES = frozenset(
    {"torch", "nn", "F", "np", "numpy", "math", "functional", "self", "None", "True", "False"}
    | {name for name in dir(builtins) if not name.startswith("_")}
)
_FSTRING = {getattr(token, name) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(token, name)}
_SKIPPED = {token.COMMENT, token.NL, token.INDENT, token.DEDENT, token.ENCODING, token.ENDMARKER, token.TYPE_COMMENT}


@dataclass
class Alphabet:
    """One character per distinct normalised token, shared by every document of a run."""

    letters: dict[str, str] = field(default_factory=dict)

    def letter(self, text: str) -> str:
        letter = self.letters.get(text)
        if letter is None:
            letter = self.letters[text] = chr(0xE000 + len(self.letters))  # Unicode's private use area
        return letter


@dataclass(frozen=True)
class Document:
    """A text normalised to one character per token, each with its span in the text."""

    text: str
    normalised: str
    spans: tuple[tuple[int, int], ...]  # for each character of ``normalised``, (start, end) in ``text``


def normalise(text: str, alphabet: Alphabet) -> Document:
    """``text`` as tokens with names, strings, comments and layout made uniform (a text that does not
    tokenize keeps its tokens up to the error)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    letters, spans = [], []
    previous = ""
    try:
        for item in tokenize.generate_tokens(io.StringIO(text).readline):
            if item.type in _SKIPPED:
                continue
            if item.type == token.NEWLINE:
                word = ";"
            elif item.type == token.STRING or item.type in _FSTRING:
                word = "S"
            elif item.type == token.NAME:
                keep = keyword.iskeyword(item.string) or previous == "." or item.string in KEPT_NAMES
                word = item.string if keep else "V"
            else:
                word = item.string
            if word == "S" and previous == "S":
                continue  # implicitly joined strings, or an f-string's parts: one string
            previous = word
            (row, column), (end_row, end_column) = item.start, item.end
            letters.append(alphabet.letter(word))
            spans.append((starts[row - 1] + column, starts[end_row - 1] + end_column))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return Document(text, "".join(letters), tuple(spans))


@dataclass(frozen=True)
class Fingerprints:
    """A document's winnowed fingerprints: each hash with the token positions where its k-gram starts."""

    document: Document
    positions: dict[int, list[int]]


_BASE = np.uint64(1_000_003)
_MIX = np.uint64(0xFF51AFD7ED558CCD)
_BITS = np.uint64((1 << 52) - 1)  # exact in the float64 that copydetect's winnowing compares them as


def kgram_hashes(text: str, k: int = K) -> np.ndarray:
    """A hash of every run of ``k`` characters of ``text``, the same in every process."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - k + 1
    if count <= 0:
        return np.array([], dtype=np.int64)
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(k):
            hashes = hashes * _BASE + codes[offset : offset + count]
        hashes ^= hashes >> np.uint64(33)
        hashes *= _MIX
        hashes ^= hashes >> np.uint64(33)
    return (hashes & _BITS).astype(np.int64)


def fingerprints(document: Document, boilerplate: frozenset[int] = frozenset()) -> Fingerprints:
    """The document's winnowed fingerprints, those of ``boilerplate`` left out."""
    from copydetect.utils import winnow

    hashes = kgram_hashes(document.normalised)
    if not len(hashes):
        return Fingerprints(document, {})
    selected, starts = winnow(hashes, WINDOW, remove_duplicates=False)
    positions: dict[int, list[int]] = {}
    for value, start in zip(selected.tolist(), starts.tolist(), strict=True):
        if value not in boilerplate:
            positions.setdefault(value, []).append(start)
    return Fingerprints(document, positions)


def boilerplate_of(texts: list[str], alphabet: Alphabet) -> frozenset[int]:
    """Every k-gram hash of the given texts (not winnowed: any of them in a student's answer is not theirs)."""
    return frozenset(value for text in texts for value in kgram_hashes(normalise(text, alphabet).normalised).tolist())


def highlighted(document: Document, starts: list[int]) -> list[tuple[str, bool]]:
    """The document's text cut into (text, highlighted) pieces: the k-grams starting at ``starts`` lit."""
    from copydetect.utils import get_copied_slices

    if not starts or not document.spans:
        return [(document.text, False)]
    slices = get_copied_slices(np.array(sorted(starts)), K)
    ranges = []
    for first, last in zip(slices[0], slices[1], strict=True):
        last = min(int(last), len(document.spans)) - 1
        ranges.append((document.spans[int(first)][0], document.spans[last][1]))
    pieces, position = [], 0
    for start, end in ranges:
        if start > position:
            pieces.append((document.text[position:start], False))
        pieces.append((document.text[max(start, position) : end], True))
        position = max(position, end)
    if position < len(document.text):
        pieces.append((document.text[position:], False))
    return pieces
