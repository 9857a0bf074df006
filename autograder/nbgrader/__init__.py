"""nbgrader bridge: the kit's assignment in an nbgrader course.

``layout`` (where the kit's solution and student notebooks live), ``release`` (the student notebook
from the solution, with nbgrader's own preprocessors), ``course`` (``autograder nbgrader init`` and
the gradebook), ``executor`` (``nbgrader autograde`` through the kit's sandbox) and ``cell`` (what a
hidden-test cell runs, in nbgrader's process or, with ``--in-kernel``, in the student's kernel). It
may import everything below it: grading, reports, the protocol and the shared records.
"""
