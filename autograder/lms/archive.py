"""Archive: an LMS's zip download unpacked into a folder of our own, and nothing outside it.

A download is hostile input like the notebooks in it. Every entry is checked before a byte of it is
written: a name that would leave the folder (``../``, an absolute path, a drive letter), a symbolic
link, a device or pipe, an encrypted entry, a name used twice or one that the file system cannot hold
becomes one line in :attr:`Unpacked.skipped`, and the rest is unpacked. Sizes are capped from the
sizes the archive declares, before anything is decompressed (a zip bomb costs nothing), and again
while decompressing (an entry that lies about its size is stopped at the cap). Names are kept as the
archive's author saw them: UTF-8 when flagged so, or when a tool wrote UTF-8 without the flag (common),
and otherwise code page 437, the format's own default.

Only regular files and folders are created, by this process, in a folder it has just made; files are
opened with ``O_EXCL | O_NOFOLLOW``, so nothing already there is written through.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.errors import AutograderError

MAX_ENTRY_BYTES = 64 * 2**20  # no file of a download larger than a notebook the grader reads (load.MAX_NOTEBOOK_BYTES)
MAX_TOTAL_BYTES = 8 * 2**30  # all of a download, declared and written
MAX_ENTRIES = 50_000
_NAME_BYTES = 255  # the longest file name Linux file systems hold, in bytes
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 20


class ArchiveError(AutograderError):
    """The archive as a whole cannot be read (not a zip, truncated): nothing of it is graded."""


@dataclass(frozen=True)
class Skipped:
    """An entry of the archive left out, and why, in one line."""

    name: str  # as the archive names it, decoded
    reason: str


@dataclass
class Unpacked:
    """What :func:`unpack` wrote into ``root`` and what it left out."""

    root: Path
    files: int = 0
    bytes: int = 0
    skipped: list[Skipped] = field(default_factory=list)


def entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's name as its author wrote it: Python decodes a name without the UTF-8 flag as code
    page 437, which is right for old Windows tools and wrong for the many that write UTF-8 unflagged."""
    name = info.filename
    if info.flag_bits & _UTF8_FLAG:
        return name
    try:
        return name.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def safe_parts(name: str) -> tuple[str, ...] | str:
    """The path components of an entry name, or why it is not one to write (a string)."""
    text = name.replace("\\", "/")
    if "\x00" in text:
        return "a name with a NUL character"
    if text.startswith("/") or _DRIVE.match(text):
        return "an absolute path, which would leave the extraction folder"
    parts = [part for part in PurePosixPath(text).parts if part not in ("", ".")]
    if ".." in parts:
        return "a path with '..', which would leave the extraction folder"
    if not parts:
        return "an empty name"
    if any(len(part.encode("utf-8", "surrogateescape")) > _NAME_BYTES for part in parts):
        return f"a name longer than {_NAME_BYTES} bytes"
    return tuple(parts)


def unpack(archive: Path, root: Path) -> Unpacked:
    """Every safe entry of ``archive`` written under ``root`` (which must not exist yet; it is made 0700).

    Raises :class:`ArchiveError` when the archive cannot be opened at all; an entry that cannot be
    written is one :class:`Skipped` and the rest goes on.
    """
    try:
        handle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as error:
        raise ArchiveError(f"{archive.name} is not a readable zip archive ({error})") from None
    except OSError as error:
        raise ArchiveError(f"cannot read {archive}: {error.strerror or error}") from None
    os.mkdir(root, 0o700)
    result = Unpacked(root)
    declared = 0
    seen: set[tuple[str, ...]] = set()
    with handle:
        infos = handle.infolist()
        if len(infos) > MAX_ENTRIES:
            result.skipped.append(Skipped(f"{len(infos) - MAX_ENTRIES} entries", f"past the first {MAX_ENTRIES}"))
            infos = infos[:MAX_ENTRIES]
        for info in infos:
            name = entry_name(info)
            parts = safe_parts(name)
            if isinstance(parts, str):
                result.skipped.append(Skipped(name, parts))
                continue
            kind = _kind(info)
            if kind == "folder":
                problem = _make_folders(root, parts)
                if problem:
                    result.skipped.append(Skipped(name, problem))
                continue
            if kind != "file":
                result.skipped.append(Skipped(name, kind))
                continue
            if parts in seen:
                result.skipped.append(Skipped(name, "a second entry with the same name (the first one is kept)"))
                continue
            if info.flag_bits & _ENCRYPTED_FLAG:
                result.skipped.append(Skipped(name, "encrypted, which the grader cannot read"))
                continue
            if info.file_size > MAX_ENTRY_BYTES:
                result.skipped.append(Skipped(name, _too_large(info.file_size)))
                continue
            if declared + info.file_size > MAX_TOTAL_BYTES:
                result.skipped.append(Skipped(name, f"past {MAX_TOTAL_BYTES / 2**30:g} GB for the whole download"))
                continue
            declared += info.file_size
            written = _make_folders(root, parts[:-1]) or _write(handle, info, root.joinpath(*parts))
            if isinstance(written, str):
                result.skipped.append(Skipped(name, written))
                continue
            seen.add(parts)
            result.files += 1
            result.bytes += written
    return result


def _kind(info: zipfile.ZipInfo) -> str:
    """``"file"``, ``"folder"``, or why the entry is neither to be written."""
    mode = info.external_attr >> 16
    if info.is_dir() or stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link, which the grader never follows or creates"
    if mode and not stat.S_ISREG(mode) and stat.S_IFMT(mode):
        return "a device, pipe or socket, not a file"
    return "file"


def _make_folders(root: Path, parts: tuple[str, ...]) -> str:
    """The folders ``root/parts...`` made, one level at a time and never through a link; "" or why not."""
    here = root
    for part in parts:
        here = here / part
        try:
            os.mkdir(here, 0o700)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(here).st_mode):
                return f"{part} is both a file and a folder in the archive"
        except OSError as error:
            return f"cannot create the folder {part}: {error.strerror}"
    return ""


def _write(handle: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> int | str:
    """The entry's bytes written to ``target``, at most its declared size and the cap; their count, or why not."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        return "a second entry with the same name (the first one is kept)"
    except OSError as error:
        return f"cannot be written: {error.strerror}"
    total, problem = 0, ""
    limit = min(info.file_size, MAX_ENTRY_BYTES)
    try:
        with handle.open(info) as source:
            while chunk := source.read(_CHUNK):
                total += len(chunk)
                if total > limit:  # zipfile stops at the declared size; this is in case it did not
                    problem = _too_large(total)
                    break
                os.write(fd, chunk)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as error:
        problem = f"corrupt or unreadable entry ({str(error).splitlines()[0] if str(error) else type(error).__name__})"
    finally:
        os.close(fd)
    if problem:
        os.unlink(target)
        return problem
    return total


def _too_large(size: int) -> str:
    return f"{_size(size)} uncompressed, more than the {_size(MAX_ENTRY_BYTES)} the grader reads of one file"


def _size(size: int) -> str:
    if size >= 2**30:
        return f"{size / 2**30:.1f} GB"
    return f"{size / 2**20:.0f} MB"


DOWNLOAD_FOLDER = "download"  # in a run's output folder: the LMS zip, unpacked
_MARKER = ".autograder-download"  # in that folder: it is ours to replace (a hidden file, which discovery skips)


def unpack_download(archive: Path, out: Path) -> Unpacked:
    """``archive`` unpacked into ``out/download/``, replacing the one an earlier run unpacked there (never
    a folder of that name that the kit did not write). The new folder replaces the old only once it is
    complete."""
    target = out / DOWNLOAD_FOLDER
    if os.path.lexists(target) and not (target / _MARKER).is_file():
        raise ArchiveError(f"{target} exists and was not unpacked by autograder: move it, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=out))
    try:
        result = unpack(archive, staging / DOWNLOAD_FOLDER)
        (staging / DOWNLOAD_FOLDER / _MARKER).write_text(f"unpacked from {archive}\n", encoding="utf-8")
        if os.path.lexists(target):
            shutil.rmtree(target)
        os.rename(staging / DOWNLOAD_FOLDER, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.root = target
    return result
