"""Errors: the named failures the kit expects, each reported to the user in one line."""


class AutograderError(Exception):
    """A failure the command line reports in one line (exit code 1), never as a traceback."""


class ReleaseError(AutograderError):
    """The solution notebook cannot be released (unreadable, or nbgrader rejects its metadata)."""


def one_line(error: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none), for a one-line report."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
