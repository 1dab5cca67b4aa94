"""One hidden input of an exercise, as both sides of the sandbox see it.

A case is named tensors plus JSON metadata. Tensor names follow two rules:
``<fn>.<weight>`` is a weight of the function named by ``meta[<fn>]``, and
``<name>.grad`` is a stale gradient to put on tensor ``<name>`` before the call.
``meta["requires_grad"]`` lists the tensors (weights included) that require grad,
``meta["layout"]`` the memory layout of inputs that are not contiguous
(``grader.layout``), and ``meta["<key>_repeat"]`` pairs ``[j, i]`` of a list of
functions whose entry j is the very same function object as entry i.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

from grader.functions import Fn, build
from grader.layout import arrange


@dataclass
class Case:
    tensors: dict[str, Tensor]
    meta: dict[str, Any] = field(default_factory=dict)
    # the grader's own results for this case (references), computed once per grading
    # however many submissions it checks; never sent to a worker
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def device(self) -> str:
        return str(self.meta.get("device", "cpu"))

    def materialize(self) -> Case:
        """Fresh leaf tensors on the case's device in their layouts, with grads and
        stale .grad set."""
        device = self.device
        layouts = self.meta.get("layout") or {}
        out: dict[str, Tensor] = {}
        for name, t in self.tensors.items():
            if not name.endswith(".grad"):
                out[name] = arrange(t.to(device), str(layouts.get(name, "contiguous")))
        for name in self.meta.get("requires_grad", []):
            out[name].requires_grad_(True)
        for name, t in self.tensors.items():
            if name.endswith(".grad"):
                out[name.removesuffix(".grad")].grad = t.detach().to(device).clone()
        return Case(out, dict(self.meta))

    def fn(self, key: str = "f") -> Fn:
        """The function ``meta[key]`` closing over this case's ``key.*`` weights."""
        prefix = key + "."
        weights = {k[len(prefix) :]: v for k, v in self.tensors.items() if k.startswith(prefix)}
        return build(self.meta[key], weights)

    def fns(self, key: str = "fs") -> list[Fn]:
        """Several functions: ``meta[key]`` lists names, weights under ``key<i>.*``;
        ``meta[key + "_repeat"]`` makes some entries the same object as others."""
        repeat = {int(j): int(i) for j, i in self.meta.get(f"{key}_repeat", [])}
        found: list[Fn] = []
        for j, name in enumerate(self.meta[key]):
            if j in repeat:
                found.append(found[repeat[j]])
            else:
                found.append(Case(self.tensors, {**self.meta, f"{key}{j}": name}).fn(f"{key}{j}"))
        return found

    def inputs(self, prefix: str = "x") -> list[Tensor]:
        """Tensors ``x0, x1, ...`` in order (for functions of several inputs)."""
        return [self.tensors[f"{prefix}{i}"] for i in range(int(self.meta[f"n_{prefix}"]))]


def pack(cases: list[Case]) -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
    """Flatten cases for the wire: tensors keyed ``<index>/<name>``."""
    tensors = {f"{i}/{name}": t for i, case in enumerate(cases) for name, t in case.tensors.items()}
    return tensors, [dict(case.meta) for case in cases]


def unpack(tensors: dict[str, Tensor], metas: list[dict[str, Any]]) -> list[Case]:
    cases = [Case({}, meta) for meta in metas]
    for key, t in tensors.items():
        index, name = key.split("/", 1)
        cases[int(index)].tensors[name] = t
    return cases
