"""No ``fresh_grads``, but functions under hostile names (control characters, a
lone surrogate, a 100 000-character name): the report lists the names a file
defines when the expected one is missing. The grader: 0 points, and the names
are cut, cleaned and escaped."""

ESC = chr(27)
globals()["fresh" + ESC + "[2J" + ESC + "[H_grads" + chr(0xDFFF)] = len
globals()["clear" + chr(13) + "✓ fresh_grads 10/10"] = len
globals()["n" * 100_000] = len
