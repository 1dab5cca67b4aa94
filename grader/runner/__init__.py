"""Where learners' code runs: a clean zygote process forks one sandboxed worker per
exercise; only plain tensors and JSON facts come back (see ``wire``)."""
