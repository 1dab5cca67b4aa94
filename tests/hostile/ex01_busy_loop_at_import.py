"""Hanging at import: a busy loop before the function is defined.
The grader: exercise 1 "timed out", 0; the others keep their marks."""

while True:
    pass
