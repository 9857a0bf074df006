"""An ordinary user, made for the session, who runs the kit as an instructor without root would.

CI runs as root: the fixture makes a user with ``useradd`` (its home in a temporary folder),
copies the working tree into that home, runs the README's set-up there as that user with
Debian's ``/usr/bin/python3.11``, and runs commands as that user with ``setpriv`` (no root, no
capability, no supplementary group, a clean environment). At the end it kills every process of
the user and removes the user and its folder. Run by someone who is not root, the instructor is
that person, in a temporary folder of theirs.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEBIAN_PYTHON = Path("/usr/bin/python3.11")
# pip's own settings that root's environment may carry (a local wheel folder for torch, local indexes):
# the user's pip gets the same, or it would fetch a multi-GB CUDA build of torch.
PIP_SETTINGS = ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_CERT", "PIP_DEFAULT_TIMEOUT")
COPIED_OUT = {".venv", ".git", "__pycache__", "grading-output", ".ruff_cache", ".pytest_cache"}


@dataclass
class Instructor:
    name: str
    uid: int
    gid: int
    home: Path
    made: bool  # made for the session (and removed at its end), not the person running the tests

    @property
    def kit(self) -> Path:
        return self.home / "kit"

    @property
    def bin(self) -> Path:
        return self.kit / ".venv" / "bin"

    def environment(self, **extra: str) -> dict[str, str]:
        env = {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
        }
        env.update(extra)
        return env

    def command(self, *argv: str) -> list[str]:
        if not self.made:
            return list(argv)
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--", *argv]

    def run(self, *argv: str, cwd: Path | None = None, timeout: float = 300, **extra: str):
        """``argv`` as the user, from ``cwd`` (default: the home folder), output captured as text."""
        return subprocess.run(
            self.command(*argv),
            cwd=cwd or self.home,
            env=self.environment(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def popen(self, *argv: str, cwd: Path | None = None, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(self.command(*argv), cwd=cwd or self.home, env=self.environment(), **kwargs)

    def give(self, path: Path) -> None:
        """Make ``path`` (and what is under it) the user's."""
        if self.made:
            for folder, subfolders, files in os.walk(path):
                for name in (folder, *(os.path.join(folder, n) for n in (*subfolders, *files))):
                    os.lchown(name, self.uid, self.gid)

    def processes(self) -> list[str]:
        """The user's processes alive now."""
        alive = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid == self.uid:
                        alive.append(f"{entry.name} {(entry / 'cmdline').read_bytes()[:100]!r}")
                except OSError:
                    continue
        return alive

    def kill_all(self) -> None:
        if not self.made:
            return
        for _ in range(50):
            pids = [int(line.split()[0]) for line in self.processes()]
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)


def make_instructor() -> tuple[Instructor, Path]:
    """The user and the temporary folder that holds its home (both to be removed with :func:`remove`)."""
    base = Path(tempfile.mkdtemp(prefix="autograder-instructor-"))
    base.chmod(0o755)
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid())
        home = base / "home"
        home.mkdir()
        return Instructor(me.pw_name, me.pw_uid, me.pw_gid, home, made=False), base
    name = f"agt{uuid.uuid4().hex[:8]}"
    home = base / "home"
    subprocess.run(
        ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group", name],
        check=True,
        capture_output=True,
    )
    home.chmod(0o700)  # as a home folder usually is: nobody else passes
    entry = pwd.getpwnam(name)
    return Instructor(name, entry.pw_uid, entry.pw_gid, home, made=True), base


def copy_kit(instructor: Instructor) -> None:
    """The working tree (what the tests test, committed or not) into the user's home, as a clone would be."""
    shutil.copytree(REPO, instructor.kit, ignore=lambda folder, names: [n for n in names if n in COPIED_OUT])
    instructor.give(instructor.kit)


class SetUp:
    """The README's set-up, as the user, with Debian's Python, started now and waited for when needed.

    It runs at the lowest CPU priority, so that it takes only the time the tests before it leave idle:
    started when the session's tests are collected, it is usually done by the time a test needs the user.
    """

    def __init__(self, instructor: Instructor) -> None:
        pip = {name: os.environ[name] for name in PIP_SETTINGS if name in os.environ}
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (open while the set-up runs; closed by wait)
        self._process = subprocess.Popen(
            instructor.command("nice", "-n", "19", "bash", "scripts/setup.sh"),
            cwd=instructor.kit,
            env=instructor.environment(PYTHON=str(DEBIAN_PYTHON), **pip),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait(self, timeout: float = 900) -> subprocess.CompletedProcess:
        code = self._process.wait(timeout=timeout)
        self._log.seek(0)
        output = self._log.read()
        self._log.close()
        return subprocess.CompletedProcess(self._process.args, code, output, output)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def start() -> tuple[Instructor, Path, SetUp]:
    """The user, its copy of the kit, and its set-up under way."""
    person, base = make_instructor()
    try:
        copy_kit(person)
        return person, base, SetUp(person)
    except BaseException:
        remove(person, base)
        raise


def remove(instructor: Instructor, base: Path) -> None:
    instructor.kill_all()
    if instructor.made:
        subprocess.run(["userdel", "--force", instructor.name], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)
