"""LMS: the files Moodle and Canvas give and take, read and written offline (no web API, no token).

``archive`` unpacks a download safely; ``download`` tells whose each file of a Moodle or Canvas
download is, from the names those LMSs give them; ``roster`` keeps that, beside a run's reports, as
``lms.json``; ``moodle`` and ``canvas`` fill the file each LMS imports (Moodle's offline grading
worksheet and its feedback-files zip, Canvas's gradebook CSV) and ``export`` runs `autograder export`.
Below the grading engine and above the reports: it imports :mod:`autograder.reports` and the shared
records, never the sandbox or the grading engine (which imports ``download`` to name the students).
"""
