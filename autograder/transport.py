"""Transport: how a hidden test reaches the student's names, every value going through the codec.

A hidden test only sees :class:`Student` (the ``student`` fixture). ``student.f(...)`` encodes
the arguments, the transport calls the student's ``f`` on decoded copies, and the result comes
back encoded, then decoded into fresh objects. :class:`InProcessTransport` does this against a
namespace in this process (the nbgrader bridge, debugging, and the grader until the sandboxed
worker lands); a worker process is a drop-in replacement because only encoded trees cross.
"""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import torch

from autograder.codec import Codec, CodecError, read_refusal
from autograder.language import Text, dropped_output_note, fr_en, french_spacing
from autograder.results import ErrorInfo, Frame

CELL_FILENAME = "<cell {}>"  # how a notebook cell's code is named in tracebacks
MAX_FRAMES = 8  # a student's traceback keeps its last frames in their own cells
MAX_CALL_OUTPUT = 20_000  # characters of output kept from one call


class TimeLimitExceeded(BaseException):
    """Raised inside student code when its time is up. A BaseException, so that the student's own
    ``except Exception`` does not swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the Python code in the block after ``seconds`` of wall time (best effort).

    A timer signal raises :class:`TimeLimitExceeded` at the next Python instruction: it stops
    loops written in Python (the usual runaway student loop), not a long call inside torch's C++
    code, and a determined student can disarm it; the sandboxed worker is what enforces limits
    against hostile code. No limit off the main thread, where signals cannot be handled.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    message = f"limite de temps dépassée ({seconds:g} s)"
    expired = False

    def _expire(signum: int, frame: object) -> None:
        nonlocal expired
        expired = True
        raise TimeLimitExceeded(message)

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except TimeLimitExceeded:
        raise
    except BaseException as error:
        # The alarm's exception can be lost on its way: Python drops one raised while a weakref callback
        # or a __del__ runs, and C code it interrupts may turn it into a SystemError. The time was up.
        if expired:
            raise TimeLimitExceeded(message).with_traceback(error.__traceback__) from None
        raise
    else:
        if expired:  # dropped, and the code went on to its end: still over its time
            raise TimeLimitExceeded(message)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class StudentError(Exception):
    """The student's code raised: its type, message and trimmed traceback, as data.

    Raised inside the hidden test, so a test can expect it (``pytest.raises(StudentError)``)
    and look at ``type_name``; it is never the student's own exception object.
    """

    def __init__(self, function: str, info: ErrorInfo) -> None:
        super().__init__(f"{function}(...) a levé {info.summary()}")
        self.function = function
        self.info = info
        self.type_name = info.type_name

    def is_a(self, type_name: str) -> bool:
        """True when the student's exception is of that built-in type or a subclass of it."""
        return type_name in (self.info.type_names or (self.info.type_name,))


class MissingDefinition(AssertionError):
    """The hidden test needs a name the student's notebook did not define."""


class UnusableResult(AssertionError):
    """The student's function returned something outside the codec (a generator, a custom object), or a name
    holds such a value. ``args[0]`` is the message without the question's expected answer; the hidden test's
    runner says it again with it (:meth:`explained`)."""

    def __init__(self, name: str, reason: str, *, returned: bool, limit: str = "") -> None:
        self.name, self.reason, self.returned, self.limit = name, reason, returned, limit
        super().__init__(self.explained())

    @property
    def generator(self) -> bool:
        """The function is a generator (it uses ``yield``): calling it ran none of its body."""
        refusal = read_refusal(self.reason)
        return refusal.kind == "type" and refusal.detail == "generator"

    def explained(self, returns: Returns | None = None) -> Text:
        """What the student gave and what the question wants (``returns``; the instructions in general
        without it), in both languages."""
        return refused_message(self.name, self.reason, returned=self.returned, limit=self.limit, returns=returns)


@dataclass(frozen=True)
class Returns:
    """What a question's function returns (or its name holds), as a student reads it: ``what`` in both
    languages ("un tenseur PyTorch de forme (N, H)"), and its ``kind`` (``"tensor"``, ``"tensors"`` for a
    tuple of them, ``"int"``, ``"tuple"``, ``"dict"``), which picks the conversion a message suggests."""

    what: Text
    kind: str = "tensor"


@dataclass(frozen=True)
class Reply:
    """What a transport answers to one call, still encoded."""

    result: object = None
    error: ErrorInfo | None = None
    unusable: str = ""  # why the result could not be encoded, if it could not
    arguments: object = None  # the encoded (args, kwargs) as they were after the call, when asked
    output: str = ""


class Transport(Protocol):
    """The student's side of the boundary, seen from the trusted runner."""

    def kind(self, name: str) -> str:
        """``"missing"``, ``"callable"`` or ``"value"``."""

    def fetch(self, name: str) -> object:
        """The encoded value of a name that is not callable."""

    def call(self, name: str, arguments: object, keep_arguments: bool) -> Reply:
        """Call ``name`` with the encoded ``(args, kwargs)``."""


@dataclass(frozen=True)
class CallResult:
    """A call's result with its arguments as they were after the call (to check nothing changed)."""

    value: object
    args: tuple
    kwargs: dict
    output: str
    refused: UnusableResult | None = None  # the result could not be read (``value`` is None); the arguments could


class Student:
    """The ``student`` fixture: the names the student's notebook defined, reached through a transport."""

    def __init__(
        self, transport: Transport, codec: Codec | None = None, explain_missing: Callable[[str], str] | None = None
    ) -> None:
        self._transport = transport
        self._codec = codec or Codec()
        self._explain_missing = explain_missing or _not_defined
        self._values: dict[str, type] = {}  # names this test read as values, and their types (suites._outcome)
        reset = getattr(transport, "reset", None)
        if reset is not None:
            reset()  # one Student per test: a sandboxed transport starts it from a fresh copy of the notebook

    @property
    def limit_struck(self) -> str:
        """The limit that stopped the student's code during this test, if one did."""
        return getattr(self._transport, "limit_struck", "")

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        kind = self._transport.kind(name)
        if kind == "missing":
            raise MissingDefinition(self._explain_missing(name))
        if kind == "callable":
            return StudentFunction(self, name)
        try:  # a value the codec refuses (an OrderedDict, an object, ...) is the student's, as a result is
            value = self._codec.decode(self._transport.fetch(name))
        except (CodecError, RecursionError, TypeError, ValueError) as error:
            raise self._unusable(name, str(error), returned=False) from None
        self._values[name] = type(value)
        return value

    def _unusable(self, name: str, reason: str, *, returned: bool) -> UnusableResult:
        """The failure a test reports when ``name``'s value (or what the function ``name`` returned) could
        not cross: what the student gave, and what to give instead."""
        return UnusableResult(name, reason, returned=returned, limit=self.limit_struck)


def refused_message(name: str, reason: str, *, returned: bool, limit: str = "", returns: Returns | None = None) -> Text:
    """Why ``name``'s value (or what the function ``name`` returned) was refused, in the student's words: what
    they gave, read from the codec's reason, and what the question wants (``returns``)."""
    message = _refused(name, reason, returned=returned, limit=limit, returns=returns)
    return Text(french_spacing(message), message.en)


def _refused(name: str, reason: str, *, returned: bool, limit: str, returns: Returns | None) -> Text:
    if limit:  # the student's process stopped at a limit: the outcome names it
        what = (f"le résultat de `{name}`", f"what `{name}` returned") if returned else (f"`{name}`", f"`{name}`")
        return Text(
            f"Le correcteur n'a pas pu lire {what[0]} : une limite a été atteinte.",
            f"The grader could not read {what[1]}: a limit was reached.",
        )
    wanted = returns.what if returns is not None else _ASKED
    refusal = read_refusal(reason)
    detail = refusal.detail
    gave = (f"`{name}` a renvoyé", f"`{name}` returned") if returned else (f"`{name}` est", f"`{name}` is")
    if refusal.kind == "type" and detail == "generator" and returned:
        return fr_en(
            "`{n}` renvoie un générateur : votre fonction contient yield, donc son corps ne s'exécute même pas "
            "quand on l'appelle. Remplacez yield par return et renvoyez {w}.",
            "`{n}` returns a generator: your function contains yield, so its body does not even run when it "
            "is called. Replace yield with return and return {w}.",
            n=name,
            w=wanted,
        )
    if refusal.kind == "type" and detail.startswith("numpy."):
        found = (
            Text(f"un tableau NumPy ({detail})", f"a NumPy array ({detail})")
            if detail == "numpy.ndarray"
            else Text(f"un nombre NumPy ({detail})", f"a NumPy number ({detail})")
        )
        kind = returns.kind if returns is not None else ""
        if kind in ("int", "tuple", "dict"):
            convert = Text(
                "convertissez chaque nombre NumPy avec int(...) ou float(...)",
                "convert each NumPy number with int(...) or float(...)",
            )
        else:
            convert = Text(
                "restez en PyTorch du début à la fin (sans .numpy()), ou convertissez avec torch.as_tensor(...)",
                "stay in PyTorch from start to end (no .numpy()), or convert with torch.as_tensor(...)",
            )
        return fr_en(
            "{g} {f} : renvoyez {w} ; {c}.", "{g} {f}: return {w}; {c}.", g=_gave(gave), f=found, w=wanted, c=convert
        )
    use = ("renvoyez plutôt", "return") if returned else ("utilisez plutôt", "use")
    if refusal.kind == "type":
        if not refusal.base:
            found = Text(f"un objet de type {detail}", f"an object of type {detail}")
            return fr_en(
                "{g} {f}, qui ne peut pas être noté : la question attend {w}.",
                "{g} {f}, which cannot be graded: the question wants {w}.",
                g=_gave(gave),
                f=found,
                w=wanted,
            )
        found = Text(
            f"un objet de type {detail} (une sous-classe de {refusal.base})",
            f"an object of type {detail} (a subclass of {refusal.base})",
        )
        plain = _PLAIN.get(refusal.base)
        if plain is None or (returns is not None and refusal.base not in _BASES.get(returns.kind, ())):
            plain = None
        return _wants(gave, found, wanted, use, plain)
    if refusal.kind in _TOO_LARGE:
        fr, en = _TOO_LARGE[refusal.kind]
        return fr_en(
            "{g} {f} : la question attend seulement {w}.",
            "{g} {f}: the question wants only {w}.",
            g=_gave(gave),
            f=Text(fr.format(detail), en.format(detail)),
            w=wanted,
        )
    if refusal.kind in _UNCARRIED:
        fr, en, instead = _UNCARRIED[refusal.kind]
        return _wants(gave, Text(fr.format(detail), en.format(detail)), wanted, use, instead)
    reason = reason[:300]  # a forged or malformed tree, or a message of the transport's own
    return fr_en(
        "{g} une valeur qui n'a pas pu être lue ({r}) : la question attend {w}.",
        "{g} a value that could not be read ({r}): the question wants {w}.",
        g=_gave(gave),
        r=reason,
        w=wanted,
    )


def _wants(gave: tuple[str, str], found: Text, wanted: Text, use: tuple[str, str], instead: object = None) -> Text:
    """ "<name> returned <found>: the question wants <wanted>", and what to return instead when there is one."""
    if instead is None:
        return fr_en(
            "{g} {f} : la question attend {w}.", "{g} {f}: the question wants {w}.", g=_gave(gave), f=found, w=wanted
        )
    return fr_en(
        "{g} {f} : la question attend {w} ; {u} {i}.",
        "{g} {f}: the question wants {w}; instead, {u} {i}.",
        g=_gave(gave),
        f=found,
        w=wanted,
        u=Text(*use),
        i=instead,
    )


def _gave(gave: tuple[str, str]) -> Text:
    return Text(*gave)


_ASKED = Text(
    "ce que demande l'énoncé, avec des types ordinaires (tenseur, nombre, chaîne, tuple, liste ou dict)",
    "what the instructions ask for, with plain types (tensor, number, string, tuple, list or dict)",
)
_PLAIN: dict[str, Text] = {  # what to give instead of a subclass of a plain type
    "dict": Text("un dict ordinaire, écrit entre accolades {…}", "a plain dict, written with braces {…}"),
    "list": Text("une liste ordinaire, écrite entre crochets […]", "a plain list, written with brackets […]"),
    "tuple": Text("un tuple ordinaire, par exemple (a, b)", "a plain tuple, for example (a, b)"),
    "str": Text("une chaîne (str) ordinaire", "a plain string (str)"),
    "int": Text("un entier (int) ordinaire", "a plain int"),
    "float": Text("un nombre (float) ordinaire", "a plain float"),
    "set": Text("une liste ou un tuple", "a list or a tuple"),
    "frozenset": Text("une liste ou un tuple", "a list or a tuple"),
    "Tensor": Text("un tenseur ordinaire (torch.Tensor)", "a plain tensor (torch.Tensor)"),
}
# The plain types a question's kind of answer is made of: a subclass of another is not told to use it.
_BASES: dict[str, tuple[str, ...]] = {
    "tensor": ("Tensor",),
    "tensors": ("tuple", "Tensor"),
    "tuple": ("tuple", "int"),
    "int": ("int",),
    "dict": ("dict", "str"),
}
# The codec's bounds on one value, by the kind of its refusal.
_TOO_LARGE: dict[str, tuple[str, str]] = {
    "bytes": ("une valeur de plus de {} Mio de données", "a value of more than {} MiB of data"),
    "items": ("une valeur de plus de {} éléments", "a value of more than {} items"),
    "tensors": ("une valeur de plus de {} tenseurs", "a value of more than {} tensors"),
    "containers": (
        "une valeur de plus de {} listes, tuples ou dicts",
        "a value of more than {} lists, tuples or dicts",
    ),
    "depth": ("une valeur imbriquée sur plus de {} niveaux", "a value nested deeper than {} levels"),
    "str": ("une chaîne de plus de {} caractères", "a string of more than {} characters"),
    "digits": ("un entier de plus de {} chiffres", "an integer of more than {} digits"),
}
# A dict, tensor or module of a kind the codec does not carry, and what to give instead.
_UNCARRIED: dict[str, tuple[str, str, Text | None]] = {
    "key": (
        "un dict dont une clé est de type {}, et non une chaîne (str)",
        "a dict with a key of type {}, not a string (str)",
        Text("un dict dont les clés sont des chaînes (str)", "a dict whose keys are strings (str)"),
    ),
    "dtype": (
        "un tenseur de dtype {}",
        "a tensor of dtype {}",
        Text(
            "un tenseur de nombres réels ou entiers (float32, int64…)",
            "a tensor of real or integer numbers (float32, int64…)",
        ),
    ),
    "layout": (
        "un tenseur qui n'est pas un tenseur dense sur CPU ({})",
        "a tensor that is not a dense CPU tensor ({})",
        Text("un tenseur dense sur CPU (.to_dense(), .cpu())", "a dense CPU tensor (.to_dense(), .cpu())"),
    ),
    "module": (
        "un module {} qui contient des sous-modules ou des buffers",
        "a module {} that holds submodules or buffers",
        None,  # what the question wants
    ),
}


class StudentFunction:
    """One of the student's functions; calling it crosses the boundary once."""

    def __init__(self, student: Student, name: str) -> None:
        self._student = student
        self.name = name

    def __call__(self, *args: object, **kwargs: object) -> object:
        return self._call(args, kwargs, keep_arguments=False).value

    def keeping_arguments(self, *args: object, **kwargs: object) -> CallResult:
        """Call it, and also get back the arguments as the student's function left them. A result that
        cannot be read comes back as ``refused`` (and ``value`` None) with the arguments all the same."""
        return self._call(args, kwargs, keep_arguments=True)

    def _call(self, args: tuple, kwargs: dict, keep_arguments: bool) -> CallResult:
        codec = self._student._codec
        reply = self._student._transport.call(self.name, codec.encode([list(args), kwargs]), keep_arguments)
        if reply.error is not None:
            raise StudentError(self.name, reply.error)
        refused, value = None, None
        try:  # from a worker, the trees are untrusted: anything the codec refuses is the student's result
            if reply.unusable:
                refused = self._student._unusable(self.name, reply.unusable, returned=True)
            else:
                value = codec.decode(reply.result)
        except (CodecError, RecursionError, TypeError, ValueError) as error:
            refused = self._student._unusable(self.name, str(error), returned=True)
        if refused is not None and not (keep_arguments and reply.arguments is not None):
            raise refused from None
        try:  # a refused result still hands the arguments back: a test of them can judge them
            after_args, after_kwargs = codec.decode(reply.arguments) if keep_arguments else ((), {})
        except (CodecError, RecursionError, TypeError, ValueError) as error:
            raise refused or self._student._unusable(self.name, str(error), returned=True) from None
        return CallResult(value, tuple(after_args), after_kwargs, reply.output, refused)


def _not_defined(name: str) -> str:
    return Text(f"`{name}` n'est pas défini dans votre notebook.", f"`{name}` is not defined in your notebook.")


class InProcessTransport:
    """Calls into a namespace held in this process, through the codec all the same."""

    def __init__(self, namespace: dict, codec: Codec | None = None, call_seconds: float | None = None) -> None:
        self._namespace = namespace
        self._codec = codec or Codec()
        self._call_seconds = call_seconds

    limit_struck = ""  # this transport's only limit is the call timer, reported as the student's error

    def kind(self, name: str) -> str:
        if name not in self._namespace:
            return "missing"
        return "callable" if callable(self._namespace[name]) else "value"

    def fetch(self, name: str) -> object:
        return self._codec.encode(self._namespace[name])

    def call(self, name: str, arguments: object, keep_arguments: bool) -> Reply:
        args, kwargs = self._codec.decode(arguments)
        function = self._namespace[name]
        output = CappedText(MAX_CALL_OUTPUT)
        with torch_globals_restored(), captured_output(output):
            try:
                with time_limit(self._call_seconds):
                    value = function(*args, **kwargs)
            # KeyboardInterrupt is the instructor's Ctrl-C: it stops the grader.
            except (Exception, SystemExit, TimeLimitExceeded) as error:
                return Reply(error=error_info(error), output=output.text())
        encoded_arguments = None
        try:
            if keep_arguments:
                encoded_arguments = self._codec.encode([args, kwargs])
        except (CodecError, RecursionError) as error:  # the student put a value of their own in an argument
            return Reply(unusable=str(error), output=output.text())
        try:
            result = self._codec.encode(value)
        except (CodecError, RecursionError) as error:
            return Reply(unusable=str(error), arguments=encoded_arguments, output=output.text())
        return Reply(result=result, arguments=encoded_arguments, output=output.text())


def error_info(error: BaseException) -> ErrorInfo:
    """An exception as data, its traceback trimmed to the frames in the student's cells."""
    frames = []
    for summary in traceback.extract_tb(error.__traceback__):
        cell = cell_number(summary.filename)
        if cell is not None:
            frames.append(Frame(cell, summary.lineno or 0, summary.name[:200], (summary.line or "").strip()[:500]))
    if isinstance(error, SyntaxError) and cell_number(error.filename or "") is not None:
        text = (error.text or "").strip()[:500]
        frames.append(Frame(cell_number(error.filename), error.lineno or 0, "<module>", text))
    message = str(error) if not isinstance(error, SyntaxError) else (error.msg or "")
    type_names = tuple(cls.__name__ for cls in type(error).__mro__ if cls.__module__ == "builtins")[:16]
    # The sizes the grader keeps (autograder.wire.error_from_wire): an honest record always fits its cap.
    return ErrorInfo(type(error).__name__[:200], message[:2000], tuple(frames[-MAX_FRAMES:]), type_names)


def cell_number(filename: str) -> int | None:
    prefix, suffix = CELL_FILENAME.split("{}")
    if filename.startswith(prefix) and filename.endswith(suffix):
        number = filename[len(prefix) : len(filename) - len(suffix)]
        if number.isdigit():
            return int(number)
    return None


class CappedText(io.TextIOBase):
    """A text stream that keeps its first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._parts: list[str] = []
        self._kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.cap - self._kept
        if room > 0:
            self._parts.append(text[:room])
            self._kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        kept = "".join(self._parts)
        if self.dropped:
            kept += "\n" + dropped_output_note(self.dropped)
        return kept


@contextlib.contextmanager
def captured_output(stream: io.TextIOBase) -> Iterator[None]:
    """Everything printed in the block, to stdout or stderr, goes to ``stream``."""
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = stream
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def torch_globals_restored() -> Iterator[None]:
    """Torch's process-wide switches, put back as they were: a student's ``set_grad_enabled(False)``
    or ``set_default_dtype`` must not change how the next call, or the next student, is checked."""
    grad = torch.is_grad_enabled()
    dtype = torch.get_default_dtype()
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_grad_enabled(grad)
        torch.set_default_dtype(dtype)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
