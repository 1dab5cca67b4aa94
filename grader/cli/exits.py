"""How a command tells the ``grade`` script it is done.

A command that returns ``FAST_EXIT`` has printed everything: the script then ends
the process at once, because tearing down an interpreter that holds torch and
pytest takes longer than the grading itself (the sandbox is already closed).
"""

FAST_EXIT = object()
