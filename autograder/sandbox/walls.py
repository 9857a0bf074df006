"""Walls: the kernel's protections around one submission's process, each applied if this machine has it.

Runs in the worker (``autograder.sandbox.worker``), never in the trusted grader. Each lane's keeper calls
``isolate_lane`` once, before it forks the lane's worker: a user namespace of the lane's own when
the instructor is not root (the kernel lets an ordinary user make one: it grants the namespaces
below and counts the lane's processes apart from the instructor's), a PID namespace whose PID 1
is the lane's worker (everything the lane ever starts dies with it) and an empty network
namespace. ``isolate`` is then called in each freshly forked submission process (PID 1 of a PID
namespace of its own) before any student code runs; it applies, in order:

- an IPC namespace: no SysV or POSIX IPC object reaches another submission or outlives this one;
- a mount namespace with a private ``/proc``, private ``/tmp`` and ``/dev/shm`` (size-capped
  tmpfs: the scratch folder and the only writable places), and empty read-only tmpfs over the
  paths the grader asks to hide (hidden suites, submissions, output, course folder) and over the
  instructor's home folder when the student code runs as the instructor;
- resource limits (address space, file size, open files, core dumps, CPU time, processes);
- an unprivileged user id (one per lane, so one lane's fork bomb cannot starve another), as root;
  otherwise no capability at all;
- Landlock: reads only under the system's and Python's own trees, writes only in scratch, no
  TCP, no signals or abstract sockets outside the submission;
- seccomp: no exec, no new sockets, no ptrace, no mount or namespace calls.

Every step that the machine refuses (no user namespaces, no Landlock, not Linux) is recorded as
off (:class:`~autograder.protocol.messages.Report`), and grading goes on; without a mount namespace
the scratch folder is a private folder the lane made, never the working directory. What each
protection means to an instructor is worded in :mod:`autograder.reports.wording`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import pwd
import resource
import sys
from pathlib import Path

from autograder.assignment import ASSIGNMENTS_DIR
from autograder.protocol.messages import Policy, Report

CLONE_NEWNS = 0x00020000


CLONE_NEWIPC = 0x08000000


CLONE_NEWUSER = 0x10000000


CLONE_NEWPID = 0x20000000


CLONE_NEWNET = 0x40000000


MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8


MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18


MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24


PR_SET_NO_NEW_PRIVS = 38


PR_SET_PDEATHSIG = 1


PR_SET_CHILD_SUBREAPER = 36


KIT_SUITES = ASSIGNMENTS_DIR  # the hidden suites bundled with the kit (a name the tests replace)


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    if _libc is None:
        raise OSError(errno.ENOSYS, "namespaces: not Linux")
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    assert _libc is not None, "namespaces: not Linux"
    _check(_libc.setns(fd, nstype), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    assert _libc is not None, "mounts: not Linux"
    encode = lambda text: text.encode() if text is not None else None  # noqa: E731
    _check(
        _libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
        f"mount {target}",
    )


def set_parent_death_signal(signum: int) -> None:
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)


_MADV_COLLAPSE = 25


def huge_pages() -> int:
    """Back this process's heap with 2 MiB pages: a fork then copies one entry per 2 MiB instead of
    512, which took forking a process that has imported torch from 4.2 ms to 1.3 ms here. Called in
    the zygote (whose forks share the pages) and again in each lane parent (for what is new there).
    Best effort (Linux 6.1+ for MADV_COLLAPSE); returns the bytes collapsed, a lower bound: a region
    with any 2 MiB range that cannot be collapsed (untouched top pad in [heap]) answers EINVAL and is
    not counted, though its other ranges were collapsed.

    Only what is there now is collapsed: the regions are not marked MADV_HUGEPAGE, so what the forks
    touch later there (malloc's 64 MiB top pad, see :mod:`autograder.sandbox.malloc`) is faulted in 4 KiB
    pages, not zeroed 2 MiB at a time for a few small objects (marked, the call processes spent far
    longer clearing pages: docs/performance.md)."""
    if _libc is None:
        return 0
    madvise = _libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    huge, collapsed = 1 << 21, 0
    try:
        with open("/proc/self/maps") as maps:
            regions = [line.split() for line in maps]
    except OSError:
        return 0
    for fields in regions:
        path = fields[5] if len(fields) > 5 else ""
        if "w" not in fields[1] or path not in ("", "[heap]"):
            continue
        low, high = (int(value, 16) for value in fields[0].split("-"))
        start, end = (low + huge - 1) & ~(huge - 1), high & ~(huge - 1)
        if end > start and madvise(start, end - start, _MADV_COLLAPSE) == 0:
            collapsed += end - start
    return collapsed


# -- Landlock ----------------------------------------------------------------------------------------
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446


_RULE_PATH_BENEATH = 1


_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8


_FS_ALL_V1 = (1 << 13) - 1


_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15


_NET_ALL = 0b11  # bind and connect TCP


_SCOPE_ALL = 0b11  # abstract unix sockets and signals outside the domain


_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    if _libc is None:
        return 0
    version = _libc.syscall(_SYS_CREATE_RULESET, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    return max(version, 0)


def _landlock(read_paths: list[str], write_paths: list[str]) -> None:
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.ENOSYS, "Landlock not available")
    assert _libc is not None  # Linux: landlock_abi() is 0 elsewhere
    handled = _FS_ALL_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    handled |= _FS_IOCTL_DEV if abi >= 5 else 0
    sizes = {1: 8, 2: 8, 3: 8, 4: 16, 5: 16}
    attr = _RulesetAttr(handled, _NET_ALL if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    ruleset = _libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), sizes.get(abi, 24), 0)
    if ruleset < 0:
        _check(-1, "landlock_create_ruleset")
    try:
        read = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
        for paths, rights in ((read_paths, read), (write_paths, handled)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # not on this machine
                try:
                    allowed = rights if os.path.isdir(path) else rights & _FILE_RIGHTS & handled
                    rule = _PathBeneath(allowed, fd)
                    _check(_libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0), path)
                finally:
                    os.close(fd)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(_libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


# -- seccomp -----------------------------------------------------------------------------------------
DENIED_SYSCALLS = (
    "execve", "execveat",  # no other program: no shell, no compiler, no second Python
    "socket", "socketpair",  # no network, no unix sockets to anything outside
    "ptrace", "process_vm_readv", "process_vm_writev",  # no reading another process's memory
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",  # the walls stay up
    "open_tree", "move_mount", "fsopen", "fsmount", "fsconfig", "fspick",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "setdomainname", "sethostname",
)  # fmt: skip


def _seccomp() -> None:
    import pyseccomp  # imported by the worker before any fork (prepare), so this costs nothing

    rules = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        except Exception:  # a call this architecture does not have
            continue
    rules.load()


def isolate_lane(report: Report) -> bool:
    """In a lane's keeper, before it forks the lane's worker (which becomes PID 1 of the namespace made
    here, so that everything the lane ever starts dies with it): no network for anything the lane will run.

    As root, the PID and network namespaces directly. Otherwise inside a user namespace of the lane's
    own, in which this user's id (and group) map to themselves: it holds every capability there, so the
    lane's worker can make each submission's namespaces and mounts, and the kernel counts the processes
    of that namespace apart from the instructor's others (``RLIMIT_NPROC``). Returns whether the lane has
    such a user namespace. Must run in a single-threaded process (a fork)."""
    set_oom_score(-1000)  # root only: the lane's worker is the last process its cgroup's OOM killer picks
    if is_root():
        report.step("network", lambda: unshare(CLONE_NEWPID | CLONE_NEWNET))
        return False
    uid, gid = os.geteuid(), os.getegid()

    def user_namespace() -> None:
        unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as map_file:
                map_file.write(text)

    if report.step("network", user_namespace):
        return True
    why = report.off["network"]
    if _read_text("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        why += "; AppArmor restricts user namespaces here: kernel.apparmor_restrict_unprivileged_userns=1"
    report.off["network"] = f"no user namespace for this user ({why})"
    return False


def _read_text(path: str) -> str:
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return ""


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def become_subreaper() -> None:
    """Orphans of this process's descendants become its children (to be killed and reaped), not init's."""
    if _libc is not None:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def set_oom_score(score: int) -> None:
    """-1000: never killed for memory; 1000: killed first (best effort: lowering needs root)."""
    try:
        with open("/proc/self/oom_score_adj", "w") as adj:
            adj.write(str(score))
    except OSError:
        pass


def isolate(policy: Policy, report: Report, own_user_namespace: bool = False, scratch: str | None = None) -> str:
    """Put this process (a new submission, PID 1 of its own namespace) behind every wall available.

    ``own_user_namespace``: the lane runs in a user namespace of its own (see :func:`isolate_lane`);
    ``scratch``: the private folder to work in when no mount namespace can be made (the lane made it).
    Returns the working folder for the student's code. Call before any student code; what cannot be
    applied is recorded in ``report.off``.
    """
    root = is_root()
    namespaces = _libc is not None and (root or own_user_namespace)  # may make namespaces and mount
    set_oom_score(1000)  # the lane's memory cap kills student processes first, never the lane parent
    try:  # before the walls go up: afterwards Python's own files may be out of reach
        import pyseccomp  # noqa: F401
    except Exception as error:  # not installed, not Linux, no libseccomp
        report.off.setdefault("seccomp", f"pyseccomp unavailable: {error}")
    # The process cap counts per user id and user namespace: as root, the lane's own user id; in the lane's
    # user namespace, the instructor's id there, which the lane's keeper and worker hold too (2 processes);
    # else every process of the instructor's, so the cap starts from those running now.
    extra = 0 if root else 2 if own_user_namespace else _process_count()
    if namespaces:
        report.step("ipc", lambda: unshare(CLONE_NEWIPC))
    else:
        report.off.setdefault("ipc", "needs root or a user namespace")
    if namespaces and report.step("filesystem", lambda: _private_mounts(policy, cover_home=not root)):
        writable, workdir = "/tmp", "/tmp/work"
        os.makedirs(workdir, exist_ok=True)
        if root:
            os.chown(workdir, policy.uid, policy.uid)
    else:
        report.off.setdefault("filesystem", "needs root or a user namespace")
        if scratch is None:
            raise OSError(errno.ENOENT, "no private scratch folder")
        writable = workdir = scratch
    os.chdir(workdir)
    report.step("rlimits", lambda: _rlimits(policy, extra))
    if root:
        report.step("user", lambda: _drop_user(policy.uid))
    else:
        report.off.setdefault("user", "needs root: no second user id to run the student code as")
    if namespaces and not root:
        _drop_capabilities()  # what the user namespace gave: none is left for student code
    shm = ["/dev/shm"] if "filesystem" in report.on else []  # else the machine's own, shared with everyone
    report.step("landlock", lambda: _landlock(read_paths(policy), [writable, *shm, "/dev/null"]))
    if "seccomp" not in report.off:
        report.step("seccomp", _seccomp)
    return workdir


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """Every capability gone (effective, permitted, inheritable); without exec, none comes back."""
    assert _libc is not None  # called only where namespaces were made: Linux
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # _LINUX_CAPABILITY_VERSION_3
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _process_count() -> int:
    """Processes of this user id now (``RLIMIT_NPROC`` counts them all when no user namespace separates)."""
    uid, count = os.getuid(), 0
    try:
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    count += entry.stat().st_uid == uid
    except OSError:
        return 0
    return count


def _private_mounts(policy: Policy, cover_home: bool) -> None:
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    prefixes = list(dict.fromkeys(os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)))
    covers: list[str] = []
    if cover_home:  # the student code runs as the instructor: their home folder goes
        home = _home_folder()
        if home is not None:
            covers.append(home)
    else:
        # Python may live where the student's user id cannot pass (pyenv under /root, mode 0700).
        for prefix in prefixes:
            closed = next((str(p) for p in reversed(Path(prefix).parents) if not os.stat(p).st_mode & 0o001), None)
            if closed is not None:
                covers.append(closed)
    kept: list[str] = []
    for target in sorted(set(covers), key=len):  # outermost first: a folder under a covered one is covered
        if not any(target.startswith(c.rstrip("/") + "/") for c in covers):
            kept += _cover(target, "size=64k,mode=0755", prefixes)
            mount(None, target, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    size = max(4 * policy.file_size_bytes, 16 * 2**20)
    owner = f",uid={policy.uid},gid={policy.uid}" if is_root() else ""
    for target in ("/tmp", "/dev/shm"):  # the scratch: private, size-capped, the student's own
        if os.path.isdir(target):
            kept += _cover(target, f"size={size},mode=0700{owner}", prefixes)
    for path in (*policy.hide, str(KIT_SUITES)):
        if os.path.isdir(path) and not any(k == path or k.startswith(path + "/") for k in kept):
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=0555")


def _home_folder() -> str | None:
    """The running user's home folder, if it is one worth covering (not ``/``, not a system tree)."""
    try:
        home = os.path.realpath(pwd.getpwuid(os.getuid()).pw_dir)
    except (KeyError, OSError):
        return None
    system = ("/", "/tmp", "/usr", "/etc", "/proc", "/dev", "/var", "/bin", "/lib", "/nonexistent")
    return home if os.path.isdir(home) and home not in system else None


def _cover(target: str, options: str, keep: list[str]) -> list[str]:
    """A fresh tmpfs over ``target``; the paths of ``keep`` under it (a venv in /tmp, Python under
    /root or a home folder) are bound back, read-only. Returns those."""
    kept = [path for path in keep if path.startswith(target.rstrip("/") + "/")]
    holders = [os.open(path, os.O_PATH | os.O_CLOEXEC) for path in kept]  # reachable once covered
    flags = [_mount_flags(path) for path in kept]
    try:
        mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options)
        for path, holder, kept_flags in zip(kept, holders, flags, strict=True):
            os.makedirs(path, mode=0o755, exist_ok=True)
            mount(f"/proc/self/fd/{holder}", path, None, MS_BIND | MS_REC)
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | kept_flags)
    finally:
        for holder in holders:
            os.close(holder)
    return kept


def _mount_flags(path: str) -> int:
    """The flags of the mount holding ``path`` that a remount in a user namespace must keep (the kernel locks
    them: a remount that drops one is refused)."""
    flag = os.statvfs(path).f_flag
    pairs: tuple[tuple[int, int], ...] = (
        (os.ST_NODEV, MS_NODEV),
        (os.ST_NOEXEC, MS_NOEXEC),
        (os.ST_NOATIME, MS_NOATIME),
    )
    pairs += ((os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))
    flags = sum(ms for st, ms in pairs if flag & st)
    return flags if flag & (os.ST_NOATIME | os.ST_RELATIME) else flags | MS_STRICTATIME


def _rlimits(policy: Policy, extra_processes: int = 0) -> None:
    mapped = _mapped_bytes()
    limits = {
        resource.RLIMIT_AS: mapped + policy.memory_bytes,
        resource.RLIMIT_FSIZE: policy.file_size_bytes,
        resource.RLIMIT_NOFILE: 256,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_CPU: policy.cpu_seconds,
        resource.RLIMIT_NPROC: policy.processes + extra_processes,  # counts per user id and user namespace
    }
    for which, value in limits.items():
        _soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _drop_user(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def read_paths(policy: Policy) -> list[str]:
    """The trees student code may read: the system's libraries, Python's, and the installed packages
    other than this kit (whose folder holds the hidden suites)."""
    paths = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys/devices/system/cpu"]
    paths += ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]
    paths.append(os.path.realpath(sys.base_prefix))
    kit = os.path.realpath(KIT_SUITES.parent)
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if ("site-packages" in real or "dist-packages" in real) and os.path.isdir(real) and real not in paths:
            if kit.startswith(real + os.sep):
                # Each installed package but this kit, whose folder holds the hidden suites.
                paths += [os.path.join(real, name) for name in os.listdir(real) if "autograder" not in name.lower()]
            else:
                # The kit lives elsewhere (an editable install): the folder whole, one rule instead of
                # one per package (hundreds, paid at every submission's start; docs/performance.md).
                paths.append(real)
    paths.append(os.path.join(os.path.realpath(sys.prefix), "bin"))
    return [p for p in paths if p not in policy.hide]
