"""Self-study: the learner's own folder, progress, fresh copies and the watch loop.

The commands in ``grader/cli/study.py`` are thin wrappers over these modules;
everything they print is rendered by ``grader/report/study.py``.
"""
