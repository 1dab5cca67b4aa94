"""A wrong answer (zeros) with every comparison the grader might use patched to say
"equal": Tensor.__eq__/__ne__/__bool__, torch.equal/allclose/isclose and
torch.testing.assert_close, numpy's, math.isclose, builtins all/any/abs/isinstance.
The grader compares in its own process: values fail."""

import builtins
import math

import numpy
import torch


def _yes(*args, **kwargs):
    return True


def _none(*args, **kwargs):
    return None


torch.Tensor.__eq__ = _yes
torch.Tensor.__ne__ = lambda *a, **k: False
torch.Tensor.__bool__ = _yes
torch.equal = torch.allclose = torch.isclose = _yes
torch.testing.assert_close = _none
numpy.allclose = numpy.array_equal = _yes
math.isclose = _yes
builtins.all = builtins.any = _yes
builtins.abs = lambda value: 0
builtins.isinstance = _yes


def vector_grad(f, x):
    return torch.zeros_like(x)
