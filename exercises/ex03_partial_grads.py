"""Exercise 3 · Partial derivatives  ·  练习 3 · 偏导数

When a result depends on several leaves, one backward() gives each of them its
own partial derivative. torch.autograd.grad(y, [a, b]) returns them as a tuple
instead of storing them in .grad.

    a = torch.tensor(7.0, requires_grad=True)
    b = torch.tensor(5.0, requires_grad=True)
    y = a**2 + 2*a + 7 + b**2
    torch.autograd.grad(y, [a, b])   # (tensor(16.), tensor(10.))

Your task: return a tuple with the gradient of f(*xs).sum() with respect to each
input, in order. Inputs may broadcast against each other; each gradient has its
own input's shape. If f ignores an input, its gradient is zeros of that input's
shape, dtype and device, never None (look at allow_unused in torch.autograd.grad).

结果依赖多个叶子时，一次 backward() 会给每个叶子算出各自的偏导数。
torch.autograd.grad(y, [a, b]) 直接以元组返回它们，而不是写入 .grad。

任务：按输入顺序返回一个元组，包含 f(*xs).sum() 对每个输入的梯度。
输入之间可能广播；每个梯度的形状与对应输入相同。f 没用到的输入，
梯度是与它形状、dtype、device 相同的全零张量，不能是 None（参见 allow_unused）。
"""

import torch


def partial_grads(f, *xs):
    raise NotImplementedError("exercise 3 (partial_grads): return the gradient for each input")
