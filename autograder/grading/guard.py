"""Guard: what a grading run checks before it trusts its own results (the trusted side only).

- **The files the trusted side reads.** Once the grader has imported its code and collected the
  hidden suites, and before any submission runs, a :class:`Snapshot` records every file of the
  suite's folder and of the kit's own package (inode, size, times: a write, a rename or a
  ``touch`` changes one). The run checks them after each result, before it starts a fresh worker
  interpreter and before it writes anything: a file changed, added or removed stops the run with
  one line. Within a run the suites are never collected again (see ``suites.hold_session``).
- **The sandbox check** (the canary). The reference solution is graded first, in the same lanes,
  walls and limits as the class. If it does not get every point, the sandbox is broken on this
  machine (a wall that denies what honest code needs, a limit too tight, a permission) and every
  student would pay for it: the run stops with one line naming what broke, before any row is written.
- **``--require-sandbox``**: a result graded with any protection off stops the run.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

import autograder
from autograder.errors import AutograderError
from autograder.grading.discover import Submission
from autograder.language import english
from autograder.results import ErrorInfo, Status, StudentResult

KIT_PACKAGE = Path(autograder.__file__).resolve().parent  # the whole package, every subpackage in it
KIT_ROOT = KIT_PACKAGE.parent  # the clone, where the kit runs from one (solutions/ beside the package)
CANARY = "autograder/reference solution"  # a student name no discovered submission can have: it holds a slash


class RunStopped(AutograderError):
    """The run cannot be trusted: it stops (exit 1) before anything is written."""


# -- the files the trusted side reads ----------------------------------------------------------------
class Snapshot:
    """The state of every file under some folders, to be compared with later."""

    def __init__(self, folders: Iterable[Path]) -> None:
        resolved = [Path(folder).resolve() for folder in folders]
        # A folder inside another one is scanned with it.
        self.folders = tuple(f for f in dict.fromkeys(resolved) if not any(o in f.parents for o in resolved))
        self.files = _scan(self.folders)

    def changes(self) -> list[str]:
        """What differs from the snapshot: each path with "changed", "added" or "removed"."""
        now = _scan(self.folders)
        gone = [path for path in self.files if now.get(path) != self.files[path]]
        found = [f"{path} ({'changed' if path in now else 'removed'})" for path in gone]
        found += [f"{path} (added)" for path in now if path not in self.files]
        return sorted(found)

    def verify(self) -> None:
        changes = self.changes()
        if changes:
            more = f" and {len(changes) - 1} more" if len(changes) > 1 else ""
            raise RunStopped(
                f"the hidden suites or the kit's code changed during grading: {changes[0]}{more}; "
                "a submission may have written it, so the run is stopped and nothing is written"
            )


def _scan(folders: Iterable[Path]) -> dict[str, tuple]:
    files: dict[str, tuple] = {}
    for folder in folders:
        for directory, subfolders, names in os.walk(folder):
            for name in (*subfolders, *names):
                path = os.path.join(directory, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                mode = stat.S_IMODE(info.st_mode)
                if stat.S_ISDIR(info.st_mode):  # its times move with what is added or removed: reported as such
                    files[path] = (info.st_ino, mode)
                else:
                    files[path] = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, mode)
    return files


_held: list[Snapshot] = []  # the snapshot of the run in progress (inherited by the lanes forked from the grader)


def hold(snapshot: Snapshot | None) -> None:
    """``snapshot`` is the run's from now on (None: no run in progress)."""
    _held[:] = [snapshot] if snapshot is not None else []


def verify_trusted_files() -> None:
    """Raise :class:`RunStopped` if a file the trusted side reads changed since the run's snapshot."""
    for snapshot in _held:
        snapshot.verify()


# -- the sandbox check -------------------------------------------------------------------------------
def reference_notebook(suite_folder: Path, assignment_id: str) -> Path | None:
    """The notebook that gets every point: ``solution.ipynb`` in the suite's folder, else the kit's own
    solution (``solutions/<id>/<id>.ipynb`` beside the package, where the kit runs from its clone)."""
    kit_solution = KIT_ROOT / "solutions" / assignment_id / f"{assignment_id}.ipynb"
    for candidate in (suite_folder / "solution.ipynb", kit_solution):
        if candidate.is_file():
            return candidate
    return None


def canary_submission(suite_folder: Path, assignment_id: str) -> Submission:
    reference = reference_notebook(suite_folder, assignment_id)
    if reference is None:
        raise RunStopped(
            f"no reference solution to check the sandbox with: put the solution notebook at "
            f"{suite_folder / 'solution.ipynb'}, or grade with --no-sandbox-check"
        )
    # The instructor's own file, reached through its link (the bundled suite's is one): the grader reads no
    # submission through a link, so this one is named where it lies.
    return Submission(CANARY, reference.resolve())


def check_canary(result: StudentResult) -> None:
    """Raise :class:`RunStopped` unless the reference solution got every point."""
    if result.status is Status.GRADED and result.score >= result.max_score - 1e-6:
        return
    raise RunStopped(
        f"the sandbox check failed: the reference solution ({result.source}) got {result.score:g}/{result.max_score:g} "
        f"in the sandbox, so honest students would lose points too: {what_broke(result)}; nothing was graded "
        "(fix the machine or the limits, see the README's sandbox section)"
    )


def what_broke(result: StudentResult) -> str:
    """The first thing that went wrong for a notebook that should have passed everything, in one clause."""
    if result.status is not Status.GRADED:
        return f"it could not be graded ({result.status.value}: {_clip(result.message)})"
    parts = []
    if result.limit:
        parts.append(f"the limit {result.limit} stopped it")
    failed = next((cell for cell in result.cells if not cell.ok), None)
    if failed is not None and failed.error is not None:
        limit = f" (limit {failed.limit})" if failed.limit else ""
        parts.append(f"cell {failed.cell} failed{limit}: {_clip(_error(failed.error))}")
    else:
        test = next((t for q in result.questions for t in q.tests if t.outcome.value != "passed"), None)
        if test is not None:
            limit = f" (limit {test.limit})" if test.limit else ""
            detail = _error(test.error) if test.error is not None else test.message_en or test.message
            parts.append(f"test {test.name} failed{limit}: {_clip(detail)}")
    if result.unprotected:
        parts.append(f"protections off: {', '.join(result.unprotected)}")
    return "; ".join(parts) or "no test passed"


def _error(error: ErrorInfo) -> str:
    return f"{error.type_name}: {english(error.message)}" if error.message else error.type_name


def _clip(text: str, size: int = 240) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= size else line[: size - 1] + "…"


def check_protections(result: StudentResult) -> None:
    """With ``--require-sandbox``: raise :class:`RunStopped` if this result was graded with a wall missing."""
    if result.unprotected:
        from autograder.reports.wording import PROTECTIONS

        missing = "; ".join(PROTECTIONS.get(name, name) for name in result.unprotected)
        raise RunStopped(
            f"--require-sandbox: sandbox protections are off on this machine ({missing}); nothing was graded "
            "(run as root on Linux for every wall, or grade without --require-sandbox)"
        )
