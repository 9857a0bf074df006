"""Protocol: what crosses between the trusted grader and the untrusted worker, as data only.

``codec`` turns values (tensors, modules, plain containers) into trees of plain data and back, with
limits; ``wire`` frames messages on a socket, with caps on every field; ``messages`` holds the
typed records both sides exchange. This package imports neither side (not :mod:`autograder.sandbox`,
:mod:`autograder.grading`, :mod:`autograder.reports`, :mod:`autograder.nbgrader`), only the shared
modules at the package's top (``results``, ``language``, ``errors``); the import rules in
``pyproject.toml`` (``[tool.importlinter]``) fail the test suite otherwise.
"""
