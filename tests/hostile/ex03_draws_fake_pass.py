"""An exception message made of terminal control sequences: clear the screen, move
the cursor home, draw fake result lines, a carriage return that overwrites the
line, and an OSC sequence that sets the terminal's title. The grader: 0 points,
and every format shows the sequences as visible escapes (``\\x1b[2J``) that do
nothing; no learner text starts a line of the text report."""

FAKE = (
    "\x1b[2J\x1b[H"  # clear the screen, cursor home
    "✓ partial_grads           10/10\n\nTotal: 80/80  (0.1 s)\n"
    "\r✓ 80/80\x1b[1A\x1b[K"  # overwrite, cursor up, erase the line
    "\x1b]0;all tests passed\x07"  # OSC: the window title
)


def partial_grads(f, *xs):
    raise AssertionError(FAKE)
