"""Slots: a lane number on this machine that no live lane holds, for lanes started by processes that do
not share a parent (each Dask worker process of a cluster, beside other runs on the same machine).

A lane's number is its user id (``lane.UID_BASE + index``) and part of its cgroups' names, so two
lanes of one machine must never share it. A local run numbers its own lanes 0..N-1; a slot is taken
from ``FIRST`` upwards, where no local run reaches, by holding an exclusive ``flock`` on one file per
number in a folder only this user can write. The kernel drops the lock when the holder dies, however
it dies (a Dask worker killed with SIGKILL frees its number for the worker that replaces it).
"""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile
from pathlib import Path

from autograder.errors import AutograderError

FIRST = 1000  # lane numbers of slots: uid 62000 and up, above any local run's lanes (0..cores-1)
COUNT = 4000  # slots per machine


class SlotError(AutograderError):
    """No lane number could be taken on this machine."""


def slot_folder() -> Path:
    """Root's slots live under /run (root's own, emptied at boot); any other user's in a private temp folder."""
    if os.geteuid() == 0 and Path("/run").is_dir():
        return Path("/run/autograder/lane-slots")
    return Path(tempfile.gettempdir()) / f"autograder-lane-slots-{os.geteuid()}"


class Slot:
    """A lane number held by this process until :meth:`release` (or its death)."""

    _fd: int | None  # the lock file's descriptor; None once released

    def __init__(self, folder: Path | str | None = None) -> None:
        folder = Path(folder) if folder is not None else slot_folder()
        _private_folder(folder)
        for index in range(FIRST, FIRST + COUNT):
            fd = os.open(folder / f"{index}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.index, self._fd = index, fd
            return
        raise SlotError(f"every lane slot in {folder} is taken ({COUNT} lanes on this machine)")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # drops the lock
            self._fd = None


def _private_folder(folder: Path) -> None:
    """The folder, made if missing, and refused unless it is this user's own and nobody else may write in it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise SlotError(f"{folder} is not a private folder of this user: refusing to keep lane slots there")
