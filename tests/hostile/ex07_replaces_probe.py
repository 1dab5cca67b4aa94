"""The "new tensors instead of in-place updates" mistake, hidden by replacing the
grader's probe for this exercise (and Recorder.fact) so the record says the same
parameter objects came back. The grader binds its probe before loading the file
and restores its modules before recording: side effects fail."""

import torch

import grader.checks.ex07_manual_update as probes
import grader.runner.observe as observe

_fact = observe.Recorder.fact


def _claim_same(self, key, value):
    if key == "same_objects":
        value = [True] * len(value)
    _fact(self, key, value)


observe.Recorder.fact = _claim_same
_probe = probes.probe


def _probe_claiming_same(fn, case, rec):
    _probe(fn, case, rec)
    rec.facts["same_objects"] = [True] * len(rec.facts.get("same_objects", []))


probes.probe = _probe_claiming_same


def gradient_descent(f, params, lr, steps):
    params = [p.detach().clone().requires_grad_(True) for p in params]
    for _ in range(steps):
        loss = f(*params).mean()
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        params = [
            p if g is None else (p - lr * g).detach().requires_grad_(True)
            for p, g in zip(params, grads, strict=True)
        ]
    return params
