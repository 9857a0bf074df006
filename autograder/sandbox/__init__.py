"""Sandbox: the code that runs in untrusted processes, next to the student's code.

``worker`` is the process tree (``python -I -m autograder.sandbox.worker``: the zygote, each lane's
keeper, the submission and call processes); ``walls`` puts the kernel's protections around them;
``execute`` runs a notebook's cells; ``runtime`` answers a hidden test's calls in the process that
holds the student's names; ``isolation`` and ``fingerprint`` tell whether a call changed the state
the next one sees; ``malloc`` tunes the allocator. Everything here may be read and subverted by
the student's code, so nothing here decides a grade. It imports the protocol and the shared
records only, never :mod:`autograder.grading`, :mod:`autograder.reports` or :mod:`autograder.nbgrader`.
"""
