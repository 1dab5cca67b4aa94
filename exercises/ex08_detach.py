"""Exercise 8 · detach() shares storage  ·  练习 8 · detach() 共享内存

x.detach() returns a new tensor outside the graph (requires_grad False, no
grad_fn) that shares x's memory: write into one and the other changes too.
That is why x.detach().numpy() works on a tensor that requires grad. A copy,
by contrast, has its own memory: clone(), torch.tensor(...).

    w = torch.rand(3, requires_grad=True)
    v = w.detach()
    v[0] = 100.0              # w[0] is now 100 as well

Your task: return a tensor with x's shape that shares x's storage (a write to
either shows in the other), does not require grad and has no grad_fn. x itself
must keep requiring grad.

x.detach() 返回一个脱离计算图的新张量（requires_grad 为 False，没有 grad_fn），
但它与 x 共享内存：改其中一个，另一个也会变。所以 x.detach().numpy() 能用在需要梯度的
张量上。clone()、torch.tensor(...) 则是有独立内存的副本。

任务：返回一个与 x 形状相同、共享 x 存储（改任何一个，另一个都能看到）、
不需要梯度也没有 grad_fn 的张量。x 本身必须仍然需要梯度。
"""

import torch


def detach_alias(x):
    raise NotImplementedError("exercise 8 (detach_alias): return a tensor that shares x's storage")
