"""Wording: every sentence the kit says about limits, statuses and the sandbox's protections.

- **Limits**: the error a student reads when a limit stopped their code (:func:`limit_error`), the
  sentence for a limit that struck a hidden test's call (:func:`stopped_by_limit`), and the page's
  friendly sentence for each limit (:func:`limit_sentence`), French and English.
- **Statuses**: why a notebook was not graded and what the student should do about it
  (:func:`not_graded_texts`), from its status and the instructor's message, whose first words the
  loader chooses from the vocabulary kept here (:data:`FILE_KINDS`, :data:`TRUNCATED`).
- **Protections**: each one's name and meaning (:data:`PROTECTIONS`) and what still stands in its
  place when this machine cannot apply it (:data:`FALLBACKS`), for an instructor, in English.

Imports the shared records, :mod:`autograder.language` and :func:`~autograder.reports.gradebook.format_points`
only: the trusted side (the lanes, the suites, the loader) says what this module words. The sandbox,
which may not import reports, takes its one sentence (a timer's) from :mod:`autograder.language`.
"""

from __future__ import annotations

import re
import signal
from pathlib import PurePath

from autograder.assignment import SubmissionLimits
from autograder.language import Text, french_spacing, time_limit_exceeded
from autograder.reports.gradebook import format_points
from autograder.results import ErrorInfo, Status, StudentResult


# -- limits -------------------------------------------------------------------------------------------
def limit_error(limit: str, limits: SubmissionLimits) -> ErrorInfo:
    """The error a student reads when a limit stopped their code, in French with its English."""
    texts = {
        "cell_seconds": (
            "TimeLimitExceeded",
            Text(
                f"limite de temps par cellule dépassée ({limits.cell_seconds:g} s)",
                f"time limit per cell exceeded ({limits.cell_seconds:g} s)",
            ),
        ),
        "call_seconds": ("TimeLimitExceeded", time_limit_exceeded(limits.call_seconds)),
        "submission_seconds": (
            "TimeLimitExceeded",
            Text(
                f"limite de temps pour tout le notebook dépassée ({limits.submission_seconds:g} s)",
                f"time limit for the whole notebook exceeded ({limits.submission_seconds:g} s)",
            ),
        ),
        "memory_mb": (
            "MemoryError",
            Text(
                f"limite de mémoire dépassée ({limits.memory_mb} Mo)",
                f"memory limit exceeded ({limits.memory_mb} MB)",
            ),
        ),
    }
    type_name, message = texts.get(limit, ("ProcessExited", Text("le processus s'est arrêté", "the process stopped")))
    return ErrorInfo(type_name, message, (), (type_name,), limit)


def stopped_by_limit(name: str, error: ErrorInfo) -> tuple[str, str] | None:
    """What a student reads when a limit stopped their function ``name`` in a hidden test, French and
    English; None when no limit did."""
    if error.type_name == "TimeLimitExceeded":
        return (
            f"`{name}` n'a pas terminé à temps ({error.message}) : "
            "une boucle qui ne s'arrête jamais, ou un calcul beaucoup trop long ?",
            f"`{name}` did not finish in time: a loop that never stops, or far too long a computation?",
        )
    if error.limit == "memory_mb":
        return (
            f"`{name}` a dépassé la limite de mémoire : "
            "un tenseur bien plus grand que nécessaire, ou une liste qui grossit sans fin ?",
            f"`{name}` went over the memory limit: a tensor far larger than needed, or a list that grows forever?",
        )
    return None


def limit_sentence(limit: str, limits: SubmissionLimits, lang: str) -> str:
    """The friendly sentence for a ``SubmissionLimits`` field that struck ("" for none)."""
    if not limit:
        return ""
    value = getattr(limits, limit, None)
    shown = format_points(float(value)) if isinstance(value, (int, float)) else "?"
    sentences = {
        "cell_seconds": (
            f"Votre cellule a dépassé la limite de temps ({shown} s) et a été arrêtée : "
            "une boucle qui ne s'arrête jamais, ou un calcul trop long ?",
            f"Your cell went over the time limit ({shown} s) and was stopped: "
            "a loop that never ends, or too long a computation?",
        ),
        "call_seconds": (
            f"Votre fonction a dépassé la limite de temps d'un appel ({shown} s) et a été arrêtée.",
            f"Your function went over the time limit for one call ({shown} s) and was stopped.",
        ),
        "submission_seconds": (
            f"Votre notebook a dépassé la durée totale accordée ({shown} s) : la correction s'est arrêtée là, "
            "la suite n'a pas pu être notée.",
            f"Your notebook went over the total time allowed ({shown} s): grading stopped there, "
            "what follows could not be graded.",
        ),
        "memory_mb": (
            f"Votre code a dépassé la mémoire autorisée ({shown} Mo) : un tenseur beaucoup trop grand ?",
            f"Your code went over the memory allowed ({shown} MB): a far too large tensor?",
        ),
        "processes": (
            f"Votre code a lancé trop de processus (au plus {shown}).",
            f"Your code started too many processes (at most {shown}).",
        ),
        "file_size_mb": (
            f"Votre code a écrit un fichier trop gros (au plus {shown} Mo).",
            f"Your code wrote too large a file (at most {shown} MB).",
        ),
        "output_kb": (
            f"Votre code a affiché trop de texte (au plus {shown} ko) : la fin de la sortie n'a pas été gardée.",
            f"Your code printed too much text (at most {shown} kB): the end of the output was not kept.",
        ),
    }
    fr, en = sentences.get(
        limit, (f"Une limite de ressources a été atteinte ({limit}).", f"A resource limit was reached ({limit}).")
    )
    return en if lang == "en" else fr


# -- statuses -----------------------------------------------------------------------------------------
# The first words of the loader's message for a notebook cut short (an interrupted upload or copy).
TRUNCATED = "truncated"

# Files students hand in by mistake, told apart by their first bytes (or, for a file discovery did not
# read, its suffix): key -> (the instructor's English name, the first bytes, the suffixes).
FILE_KINDS: dict[str, tuple[str, tuple[bytes, ...], tuple[str, ...]]] = {
    "png": ("a PNG image", (b"\x89PNG\r\n\x1a\n",), (".png",)),
    "jpeg": ("a JPEG image", (b"\xff\xd8\xff",), (".jpg", ".jpeg")),
    "gif": ("a GIF image", (b"GIF87a", b"GIF89a"), (".gif",)),
    "webp": ("a WebP image", (), (".webp",)),
    "heic": ("a HEIC image", (), (".heic", ".heif")),
    "pdf": ("a PDF document", (b"%PDF-",), (".pdf",)),
    "zip": ("a ZIP archive", (b"PK\x03\x04",), (".zip",)),
    "html": ("an HTML page", (b"<!doctype html", b"<html"), (".html", ".htm")),
    "python": ("a Python script", (), (".py",)),
    "word": ("a Word document", (), (".docx", ".doc", ".odt")),
}
IMAGES = ("png", "jpeg", "gif", "webp", "heic")

# Why a submission was not graded and what to do about it, as the student reads it: per cause, (what
# happened, what to do), each (French, English). The cause comes from the status (the contract's word)
# and, within a status, from the instructor's message (``not_graded_cause``).
_SAVE_IPYNB = (
    "Rendez le fichier .ipynb lui-même : dans Jupyter, « File → Download » (Fichier → Télécharger) "
    "l'enregistre sur votre ordinateur.",
    "Submit the .ipynb file itself: in Jupyter, “File → Download” saves it on your computer.",
)
_FROM_WORKING_COPY = (
    "Rendez de nouveau votre notebook depuis la copie sur laquelle vous avez travaillé (celle que vous ouvrez "
    "dans Jupyter), après l'avoir enregistrée (Ctrl+S). Inutile d'essayer de réparer ce fichier-ci.",
    "Submit your notebook again from the copy you worked on (the one you open in Jupyter), after saving it "
    "(Ctrl+S). There is no need to try to repair this file.",
)
_NOT_YOUR_FAULT = (
    "Ce n'est pas de votre fait : votre enseignant le voit dans le résumé de la classe, rien à faire de votre côté.",
    "It is not your fault: your teacher sees it in the class summary, there is nothing for you to do.",
)
NOT_GRADED = {
    "empty": (
        (
            "Le fichier que vous avez rendu est vide : il ne contient rien, pas même le notebook de départ.",
            "The file you submitted is empty: it holds nothing, not even the starting notebook.",
        ),
        (
            "Ouvrez votre notebook dans Jupyter, vérifiez que vos réponses y sont, enregistrez-le (Ctrl+S), "
            "puis rendez ce fichier .ipynb.",
            "Open your notebook in Jupyter, check that your answers are in it, save it (Ctrl+S), "
            "then submit that .ipynb file.",
        ),
    ),
    "image": (
        (
            "Vous avez rendu {kind_fr}, pas un notebook : une capture d'écran ne peut pas être corrigée, "
            "seul le code d'un notebook peut l'être.",
            "You submitted {kind_en}, not a notebook: a screenshot cannot be graded, only a notebook's code can.",
        ),
        _SAVE_IPYNB,
    ),
    "other_kind": (
        (
            "Vous avez rendu {kind_fr}, pas un notebook Jupyter (.ipynb) : le correcteur ne lit que les notebooks.",
            "You submitted {kind_en}, not a Jupyter notebook (.ipynb): the grader reads notebooks only.",
        ),
        _SAVE_IPYNB,
    ),
    "other_file": (
        (
            "Le fichier que vous avez rendu ({name}) n'est pas un notebook Jupyter (.ipynb).",
            "The file you submitted ({name}) is not a Jupyter notebook (.ipynb).",
        ),
        _SAVE_IPYNB,
    ),
    "json": (
        (
            "Le fichier que vous avez rendu contient du JSON, mais ce n'est pas un notebook Jupyter.",
            "The file you submitted holds JSON, but it is not a Jupyter notebook.",
        ),
        _SAVE_IPYNB,
    ),
    "binary": (
        (
            "Le fichier que vous avez rendu n'est pas un notebook : c'est un fichier binaire, que Jupyter "
            "ne peut pas ouvrir.",
            "The file you submitted is not a notebook: it is a binary file, which Jupyter cannot open.",
        ),
        _SAVE_IPYNB,
    ),
    "special": (
        (
            "Ce que vous avez rendu n'est pas un fichier ordinaire (un lien ou un raccourci vers le notebook, "
            "par exemple) : le correcteur ne suit pas les liens.",
            "What you submitted is not an ordinary file (a link or a shortcut to the notebook, for example): "
            "the grader does not follow links.",
        ),
        _SAVE_IPYNB,
    ),
    "truncated": (
        (
            "Votre notebook est incomplet : le fichier s'arrête avant sa fin (un envoi interrompu ou une copie "
            "inachevée), et Jupyter lui-même ne pourrait pas l'ouvrir.",
            "Your notebook is incomplete: the file stops before its end (an interrupted upload or copy), "
            "and Jupyter itself could not open it.",
        ),
        _FROM_WORKING_COPY,
    ),
    "damaged": (
        (
            "Votre notebook est abîmé : son contenu n'a plus la forme d'un notebook (modifié hors de Jupyter, "
            "dans un éditeur de texte par exemple), et Jupyter ne pourrait pas l'ouvrir.",
            "Your notebook is damaged: its content no longer has a notebook's form (edited outside Jupyter, "
            "in a text editor for example), and Jupyter could not open it.",
        ),
        _FROM_WORKING_COPY,
    ),
    "too_old": (
        (
            "Votre notebook est enregistré dans un format trop ancien pour le correcteur.",
            "Your notebook is saved in a format too old for the grader.",
        ),
        (
            "Ouvrez-le dans un Jupyter récent et enregistrez-le (il est alors converti au format actuel), "
            "puis rendez-le de nouveau.",
            "Open it in a recent Jupyter and save it (it is then converted to the current format), "
            "then submit it again.",
        ),
    ),
    "too_new": (
        (
            "Votre notebook est enregistré dans un format plus récent que celui que lit le correcteur.",
            "Your notebook is saved in a newer format than the grader reads.",
        ),
        _NOT_YOUR_FAULT,
    ),
    "cannot_read": (
        (
            "Le correcteur n'a pas pu lire votre fichier sur son disque.",
            "The grader could not read your file on its disk.",
        ),
        _NOT_YOUR_FAULT,
    ),
    "too_large": (
        (
            "Le fichier que vous avez rendu est trop gros pour le correcteur.",
            "The file you submitted is too large for the grader.",
        ),
        (
            "Effacez les sorties volumineuses (Kernel → Restart & Clear Output), enregistrez, "
            "puis rendez-le de nouveau.",
            "Clear the large outputs (Kernel → Restart & Clear Output), save, then submit it again.",
        ),
    ),
    "duplicate": (
        (
            "Plusieurs notebooks ont été trouvés à votre nom{listing_fr} : aucun n'a été choisi à votre place, "
            "pour ne pas corriger le mauvais.",
            "Several notebooks were found under your name{listing_en}: none was picked for you, "
            "so as not to grade the wrong one.",
        ),
        (
            "Gardez le notebook qui contient vos réponses et rendez-le seul : supprimez les autres, "
            "par exemple les copies que Jupyter crée (« rnn_intro-Copy1.ipynb »).",
            "Keep the notebook that holds your answers and submit it alone: delete the others, "
            "such as the copies Jupyter makes (“rnn_intro-Copy1.ipynb”).",
        ),
    ),
    "no_notebook": (
        (
            "Votre dossier ne contient aucun notebook (.ipynb).",
            "Your folder holds no notebook (.ipynb).",
        ),
        (
            "Déposez-y votre fichier .ipynb, celui que vous ouvrez dans Jupyter.",
            "Put your .ipynb file in it, the one you open in Jupyter.",
        ),
    ),
    "grader_error": (
        (
            "Le correcteur a rencontré une erreur interne sur votre notebook.",
            "The grader met an internal error on your notebook.",
        ),
        _NOT_YOUR_FAULT,
    ),
}

# The kinds of files FILE_KINDS names, as a French sentence names them.
KIND_FR = {
    "png": "une image PNG",
    "jpeg": "une image JPEG",
    "gif": "une image GIF",
    "webp": "une image WebP",
    "heic": "une image HEIC (une photo de téléphone)",
    "pdf": "un document PDF",
    "zip": "une archive ZIP",
    "html": "une page HTML (un export du notebook ?)",
    "python": "un script Python (.py)",
    "word": "un document de traitement de texte",
}
KIND_EN = {"heic": "a HEIC image (a phone's photo)", "html": "an HTML page (an export of the notebook?)"}


def not_graded_cause(status: Status, message: str, source: str = "") -> tuple[str, str]:
    """The key in :data:`NOT_GRADED` for a row that was not graded, and the kind of file (a
    ``FILE_KINDS`` key) when one was recognised, from its status, the instructor's message and
    the file's path."""
    kind = next((k for k, (name, _m, _s) in FILE_KINDS.items() if message.startswith(f"{name},")), "")
    if status is Status.NOT_A_NOTEBOOK and "not a .ipynb file" in message:
        suffix = PurePath(source).suffix.lower()
        kind = next((k for k, (_n, _m, suffixes) in FILE_KINDS.items() if suffix in suffixes), "")
        if not kind:
            return "other_file", ""
    if kind:
        return ("image" if kind in IMAGES else "other_kind"), kind
    if status is Status.NOT_A_NOTEBOOK:
        if "structure not understood" in message:
            return "damaged", ""
        return ("json" if message.startswith("JSON") else "special"), ""
    if status is Status.UNREADABLE:
        if message.startswith(TRUNCATED):
            return "truncated", ""
        if message.startswith(("cannot read", "cannot list")):
            return "cannot_read", ""
        if message.startswith("nbformat"):
            return ("too_new" if "newer" in message else "too_old"), ""
        return ("binary" if message.startswith("not UTF-8") else "damaged"), ""
    return status.value, ""


def not_graded_texts(result: StudentResult, lang: str) -> tuple[str, str]:
    """What happened to a notebook that was not graded, and what the student should do, in ``lang``."""
    cause, kind = not_graded_cause(result.status, result.message, result.source)
    (happened_fr, happened_en), (advice_fr, advice_en) = NOT_GRADED.get(cause, NOT_GRADED["grader_error"])
    listed = result.message.partition(": ")[2] if cause == "duplicate" else ""
    listed_fr = re.sub(r" and (\d+) more$", r" et \1 autres", listed)
    values = {
        "kind_fr": KIND_FR.get(kind, ""),
        "kind_en": KIND_EN.get(kind) or (FILE_KINDS[kind][0] if kind else ""),
        "name": f"« {PurePath(result.source).name} »" if lang != "en" else f"“{PurePath(result.source).name}”",
        "listing_fr": f" ({listed_fr})" if listed else "",
        "listing_en": f" ({listed})" if listed else "",
    }
    if lang == "en":
        return happened_en.format(**values), advice_en
    return french_spacing(happened_fr.format(**values)), french_spacing(advice_fr)


# -- protections ---------------------------------------------------------------------------------------
# What an instructor reads when one is off (the CLI's warning line, summary.html, each results JSON).
PROTECTIONS = {
    "network": "no network (empty network namespace)",
    "processes": "own PID namespace (cannot see or signal the grader; its processes die with it)",
    "filesystem": "private file-system view (mount namespace: a private scratch, the suites and submissions hidden)",
    "ipc": "own IPC namespace (no shared memory, message queue or semaphore shared with another submission)",
    "landlock": "Landlock (reads only system trees, writes only scratch, no TCP, no outside signals)",
    "user": "a separate unprivileged user id",
    "seccomp": "seccomp (no exec, sockets, ptrace, mounts)",
    "rlimits": "resource limits (memory, file size, processes, CPU)",
    "cgroup": "cgroup memory and process caps",
}


# What still stands in a protection's place when it is off.
FALLBACKS = {
    "network": "Landlock denies TCP and seccomp denies new sockets",
    "processes": "what a submission started is killed when it ends (the lane is their subreaper)",
    "filesystem": "a private scratch folder of the kit's own; Landlock limits what is read and written",
    "ipc": "none: SysV shared memory and message queues can pass from one submission to the next",
    "landlock": "the mount namespace hides the suites, submissions and output",
    "user": "student code runs as your user, with no capabilities, in a user namespace of its own; "
    "Landlock and the mount namespace keep your files out of its reach",
    "seccomp": "Landlock and the namespaces",
    "rlimits": "the cgroup caps",
    "cgroup": "memory capped by RLIMIT_AS; processes by RLIMIT_NPROC, counted in the lane's own user namespace",
}


def process_exited(status: dict) -> ErrorInfo:
    """The error a student reads when the process running their code ended; ``status`` may come from
    the worker, so only small integers are believed."""
    status = {k: v for k, v in status.items() if type(v) is int and 0 <= v < 256}
    if status.get("signal"):
        name = _signal_name(status["signal"])
        fr, en = f"arrêté par le signal {status['signal']} ({name})", f"killed by signal {status['signal']} ({name})"
    else:
        fr, en = f"sorti avec le code {status.get('code')}", f"exited with code {status.get('code')}"
    message = Text(
        f"le processus qui exécutait votre code s'est arrêté : {fr} (os._exit, sys.exit ou plantage ?)",
        f"the process running your code stopped: {en} (os._exit, sys.exit or a crash?)",
    )
    return ErrorInfo("ProcessExited", message, (), ("ProcessExited",))


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "?"
