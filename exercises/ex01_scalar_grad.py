"""Exercise 1 · The derivative of a scalar function  ·  练习 1 · 标量函数的导数

A tensor created with requires_grad=True is a leaf that autograd watches. Every
operation on it is recorded in a graph; calling .backward() on a scalar result
walks that graph backwards and stores d(result)/d(leaf) in leaf.grad.

    x = torch.tensor(3.0, requires_grad=True)
    y = x**2 + 2*x + 7        # the graph now knows y = x**2 + 2x + 7
    y.backward()              # fills x.grad with dy/dx = 2x + 2
    x.grad                    # tensor(8.)

Your task: return df/dx at the point x, computed by autograd (not by hand:
f changes from call to call). x is a 0-d tensor that does not require grad:
make a leaf that does, e.g. x.detach().requires_grad_(True). Return a tensor
with x's dtype and device that does not itself require grad.

设置 requires_grad=True 的张量是一个叶子节点，autograd 会记录它参与的每一步运算，
形成计算图。对标量结果调用 .backward() 时，梯度沿计算图反向传播，
d(结果)/d(叶子) 被存进 leaf.grad。

任务：用自动微分（不要手算，f 每次都不同）求 f 在 x 处的导数并返回。
x 是不需要梯度的 0 维张量：先做一个需要梯度的叶子，例如 x.detach().requires_grad_(True)。
返回的张量与 x 的 dtype 和 device 相同，且本身不需要梯度。
"""

import torch


def scalar_grad(f, x):
    raise NotImplementedError("exercise 1 (scalar_grad): return df/dx at x, computed by autograd")
