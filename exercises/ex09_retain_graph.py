"""Exercise 9 · Backward twice through one graph  ·  练习 9 · 对同一张图反向传播两次

To save memory, backward() throws away the values the graph saved for it (the
input of sin, the output of tanh, ...) as soon as it has used them. A second
backward through the same part of the graph then fails with "Trying to backward
through the graph a second time". When several losses share an expensive part,
keep that part's graph alive with retain_graph=True.

    x = torch.tensor([0.5, 1.0], requires_grad=True)
    z = torch.sin(x)                       # sin saves x for its backward
    z.sum().backward(retain_graph=True)    # the saved x is kept
    x.grad                                 # cos(x)
    x.grad = None
    (z ** 2).sum().backward()              # works: sin's part of the graph is still there
    x.grad                                 # 2 * sin(x) * cos(x)

torch.autograd.grad(..., retain_graph=True) does the same and returns the gradient
instead of adding it to .grad.

Your task: x does not require grad, and heads holds two or more functions. For
each head h, in order, compute the gradient of h(trunk(x)).sum() with respect to
x, and return them as a list of separate tensors of x's shape. trunk is
expensive: call it exactly once in all. Leave x as it is, and return tensors with
x's dtype and device that do not require grad.

为了节省内存，backward() 用完计算图为它保存的值（sin 的输入、tanh 的输出等）后
会立刻把它们释放。再对图的同一部分做一次反向传播就会报错 "Trying to backward
through the graph a second time"。几个损失共用一段昂贵的计算时，用
retain_graph=True 让这段计算图保留下来。torch.autograd.grad(..., retain_graph=True)
效果相同，只是直接返回梯度，不累加到 .grad 上。

任务：x 不需要梯度，heads 里有两个或更多函数。按顺序对每个 head h，求
h(trunk(x)).sum() 对 x 的梯度，返回一个列表，其中每个梯度都是与 x 形状相同的
独立张量。trunk 很昂贵：总共只能调用一次。不要改动 x；返回的张量与 x 的 dtype 和
device 相同，且不需要梯度。
"""

import torch


def shared_trunk_grads(trunk, heads, x):
    raise NotImplementedError("exercise 9 (shared_trunk_grads): call trunk once, then one backward per head")
