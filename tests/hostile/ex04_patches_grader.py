"""The detach() mistake (the graph is recorded, then cut off) hidden by patching the
grader's own probe at import: its grad-mode check always says "off", the probe
function and the Recorder's methods are replaced so the evidence is dropped.
The grader binds and restores its own code: values fail."""

import sys

import grader.checks.ex04_no_grad as probes
import grader.runner.observe as observe

probes.is_grad_enabled = lambda: False
observe.is_grad_enabled = lambda: False
_fact = observe.Recorder.fact


def _drop(self, key, value):
    if key != "recording":
        _fact(self, key, value)


observe.Recorder.fact = _drop
_probe = probes.probe


def _quiet_probe(fn, case, rec):
    _probe(fn, case, rec)
    rec.facts["recording"] = [False]


probes.probe = _quiet_probe
sys.modules["grader.checks.ex04_no_grad"] = probes


def evaluate_without_grad(f, x):
    return f(x).detach()
