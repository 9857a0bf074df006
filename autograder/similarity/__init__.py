"""Similarity: copy detection across a class, after grading, on the students' code alone.

``answers`` takes each student's code per question out of their notebook (parsed, never run);
``fingerprints`` normalises it and fingerprints it with copydetect's winnowing; ``compare`` weighs
what pairs of students share by its rarity in the class; ``run`` reads a run's output folder and
writes ``similarity.html``, linked from ``summary.html``. Above the grading engine, whose notebook
reading it uses, and below the command line; it never imports the sandbox.
"""

DEFAULT_THRESHOLD = 2.0  # a pair is flagged from two questions' worth of rare code shared (compare.py)
