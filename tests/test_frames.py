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


def test_answers_after_an_exercise_closed_are_bad_output() -> None:
    """A closing frame, or a case, with no exercise open (a worker that could not
    send one case's answer closes the exercise early) ends the worker's stream as
    bad output instead of closing an exercise twice."""
    frames = _Frames([2])
    happened = frames.feed(
        frame({"status": "ready"})
        + frame({"begin": 0})
        + frame({"status": "bad_output", "why": "could not encode"})
        + frame({"status": "bad_output", "why": "could not encode"})
    )
    assert [kind for kind, _ in happened] == ["begin", "closed", "bad"]
    frames = _Frames([1])
    stream = [{"status": "ready"}, {"begin": 0}, {"case": 0, "status": "ok", "facts": {}}]
    stream += [{"status": "ok", "cases": 1}, {"case": 0, "status": "ok", "facts": {}}]
    happened = frames.feed(b"".join(frame(doc) for doc in stream))
    assert [kind for kind, _ in happened] == ["begin", "closed", "bad"]


def test_the_direct_writer_makes_messages_the_safetensors_reader_takes() -> None:
    """wire.encode writes safetensors itself; the library's reader (what the grader
    uses) must read back every dtype, shape and layout exactly, metadata included."""
    import torch

    tensors = {
        "f32": torch.randn(3, 4),
        "f64 0-d": torch.tensor(2.5, dtype=torch.float64),
        "empty": torch.zeros(0, 3),
        "bool": torch.tensor([True, False, True]),
        "strided": torch.arange(12).reshape(3, 4).t(),
        "offset": torch.arange(10.0)[3:7],
        "bf16": torch.ones(2, dtype=torch.bfloat16),
        "u8": torch.arange(5, dtype=torch.uint8),
    }
    doc = {"case": 3, "facts": {"kind": "tensor", "text": "ü 张 \x1b"}}
    got, said = wire.decode(wire.encode(tensors, doc))
    assert said == doc
    assert set(got) == set(tensors)
    for key, t in tensors.items():
        assert got[key].dtype == t.dtype and got[key].shape == t.shape, key
        assert torch.equal(got[key], t), key
    # a dtype it does not write itself goes through the library's writer
    got, _ = wire.decode(wire.encode({"c": torch.ones(2, dtype=torch.complex64)}, {}))
    assert torch.equal(got["c"], torch.ones(2, dtype=torch.complex64))
