"""The hidden checks: one module per exercise, run through pytest by ``grader.grading``.

Each module has three parts:
- ``draw_cases(draw)``: the hidden inputs (trusted process);
- ``probe(fn, case, rec)``: how the learner's function is called and what is
  recorded about it (runs inside the sandboxed worker);
- ``test_*`` functions: the named, weighted checks that compare what came back
  with references PyTorch computes on the same inputs (trusted process).
"""
