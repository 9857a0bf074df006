"""Reports: what the kit writes for instructors and students, from results alone.

``gradebook`` (grades.csv, results/*.json, the terminal table), ``feedback`` (one student's page,
as data), ``summary`` (the class at a glance), ``pages`` (the HTML, from ``templates/``) and
``wording`` (every sentence about limits, statuses and protections). Pure formatting: it imports the
shared records and :mod:`autograder.assignment` only, never the sandbox or the grading engine.
"""
