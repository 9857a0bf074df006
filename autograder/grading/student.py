"""The ``student`` fixture: how a hidden test reaches the student's names, every value through the codec.

A hidden test only sees :class:`Student`. ``student.f(...)`` encodes the arguments, a transport
(:class:`autograder.protocol.messages.Transport`) calls the student's ``f`` on decoded copies, and
the result comes back encoded, then decoded into fresh objects: :class:`SandboxedNotebook
<autograder.grading.notebook.SandboxedNotebook>` against the sandboxed worker, or
:class:`~autograder.sandbox.runtime.InProcessTransport` in the same process (the in-kernel nbgrader
bridge, the tests). The exceptions a test meets (:class:`StudentError`, :class:`MissingDefinition`,
:class:`UnusableResult`) and the French and English words for what the student gave are here too.

Trusted side: imports the protocol and the shared records, never the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from autograder.language import Text, fr_en, french_spacing
from autograder.protocol.codec import Codec, CodecError, read_refusal
from autograder.protocol.messages import Transport
from autograder.results import ErrorInfo


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
        transport.reset()  # one Student per test: a sandboxed transport starts it from a fresh copy of the notebook

    @property
    def limit_struck(self) -> str:
        """The limit that stopped the student's code during this test, if one did."""
        return self._transport.limit_struck

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
            after_args, after_kwargs = _call_arguments(codec.decode(reply.arguments)) if keep_arguments else ((), {})
        except (CodecError, RecursionError, TypeError, ValueError) as error:
            raise refused or self._student._unusable(self.name, str(error), returned=True) from None
        return CallResult(value, after_args, after_kwargs, reply.output, refused)


def _call_arguments(decoded: object) -> tuple[tuple, dict]:
    """A call's ``[args, kwargs]`` as the worker sent them back; ValueError for any other shape (a forged reply)."""
    if type(decoded) is list and len(decoded) == 2 and type(decoded[0]) is list and type(decoded[1]) is dict:
        return tuple(decoded[0]), decoded[1]
    raise ValueError("malformed call arguments")


def _not_defined(name: str) -> str:
    return Text(f"`{name}` n'est pas défini dans votre notebook.", f"`{name}` is not defined in your notebook.")


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
