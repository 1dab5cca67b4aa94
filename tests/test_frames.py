"""The grader's reading of a worker's frames: order, exercises, and events that
belong to the exercise whose code caused them, however the pipe cuts the bytes."""

from __future__ import annotations

import struct

from grader.runner import wire
from grader.runner.execute import _Frames


def frame(doc: dict) -> bytes:
    blob = wire.encode({}, doc)
    return struct.pack("<Q", len(blob)) + blob


WORKER = [
    {"status": "ready"},
    {"begin": 0},
    {"case": 0, "status": "ok", "facts": {}},
    {"status": "ok", "cases": 1},
    {"begin": 1},
    {"event": "optimizer", "name": "torch.optim.sgd.sgd"},
    {"case": 0, "status": "ok", "facts": {}},
    {"status": "ok", "cases": 1},
    {"status": "done"},
]


def test_events_come_in_order_between_their_exercises_begin_and_close() -> None:
    stream = b"".join(frame(doc) for doc in WORKER)
    for size in (len(stream), 7, 1):  # one read, small reads, a byte at a time
        frames = _Frames([1, 1])
        happened = []
        for start in range(0, len(stream), size):
            happened += frames.feed(stream[start : start + size])
        kinds = [kind for kind, _ in happened]
        assert kinds == ["begin", "closed", "begin", "event", "closed", "done"], size
        assert happened[3][1]["name"] == "torch.optim.sgd.sgd"


def test_frames_out_of_order_are_bad_output() -> None:
    frames = _Frames([1, 1])
    happened = frames.feed(frame({"status": "ready"}) + frame({"begin": 1}))
    (kind, outcome), *_ = happened
    assert kind == "bad" and outcome.status == "bad_output"
    frames = _Frames([1])
    happened = frames.feed(frame({"status": "ready"}) + frame({"case": 0, "status": "ok"}))
    assert happened[0][0] == "bad"
