"""Exercise 12 · Hooks that change a gradient  ·  练习 12 · 用钩子修改梯度

A hook registered with t.register_hook(fn) is called during backward with the
gradient arriving at t. If fn returns a tensor, that tensor replaces the gradient:
it is what flows on to the tensors t was computed from. So a hook can clip, scale
or inspect the gradient at one point in the middle of a graph.

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x ** 2                                   # dy/dx = 2x
    y.register_hook(lambda g: g.clamp(-1, 1))    # clamp the gradient arriving at y
    (5 * y).sum().backward()                     # 5 arrives at y, 1 flows on
    x.grad                                       # tensor([2., 4.]) = 1 * 2x, not 5 * 2x

Clamping at y is not clamping at x: clamping the final gradient [10., 20.] would
give [1., 1.]. Without a hook it takes two steps: gy = torch.autograd.grad(L, y,
retain_graph=True), then torch.autograd.grad(y, x, grad_outputs=gy.clamp(-c, c)).

Your task: x does not require grad. Let y = f(x) and L = g(y).sum(). Return dL/dx
when the gradient arriving at y is clamped elementwise to [-c, c] before it flows
on through f. Leave x as it is, and return a tensor with x's dtype and device that
does not require grad.

用 t.register_hook(fn) 注册的钩子会在反向传播时收到到达 t 的梯度。如果 fn 返回一个
张量，它就替换原来的梯度，继续传给计算出 t 的那些张量。所以钩子可以在计算图中间的
某一点裁剪、缩放或查看梯度。注意：在 y 处裁剪和在 x 处裁剪结果不同。不用钩子也可以
分两步做：先用 torch.autograd.grad(L, y, retain_graph=True) 得到 gy，
再用 torch.autograd.grad(y, x, grad_outputs=gy.clamp(-c, c))。

任务：x 不需要梯度。设 y = f(x)，L = g(y).sum()。把到达 y 的梯度逐元素限制在
[-c, c] 之后再让它经过 f 继续传播，返回这样得到的 dL/dx。不要改动 x；返回的张量与
x 的 dtype 和 device 相同，且不需要梯度。
"""

import torch


def clipped_grad(f, g, x, c):
    raise NotImplementedError("exercise 12 (clipped_grad): clamp the gradient at y to [-c, c], return dL/dx")
