"""Wording: what the reports say about the sandbox's protections, for an instructor.

Each protection's name and what it means (:data:`PROTECTIONS`), and what still stands in its
place when this machine cannot apply it (:data:`FALLBACKS`): the CLI's warning line,
``summary.html`` and each results JSON use them. English: instructor-facing.
"""

from __future__ import annotations

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
