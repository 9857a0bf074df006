"""Grading: the trusted side, where scores are decided.

From a submission's bytes to a :class:`~autograder.results.StudentResult`: reading notebooks
(``load``, ``discover``), the lanes that run them in the sandbox (``zygote``, ``lane``,
``notebook``, ``slots``, ``guard``), the hidden suites (``suites``, the ``student`` fixture,
``checks``, ``suite_inputs``), ``scoring``, one submission and a batch (``grade``, ``batch``) and the
Dask cluster (``cluster``). It may import the protocol, the shared records and :mod:`autograder.reports`
(the batch writes pages as results arrive), never the sandbox's modules: student code runs only in
the worker processes it starts by name.
"""
