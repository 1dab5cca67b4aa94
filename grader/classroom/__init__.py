"""Classroom workflows: notebook submissions and nbgrader courses.

``notebook`` turns a Jupyter notebook into per-exercise sources without running
it; ``nbgrader_source`` writes an nbgrader source assignment; ``kernel`` is the
feedback check a learner's test cell runs; ``nbgrader_autograde`` grades a
course's submissions out of kernel and records the scores in its gradebook.
"""
