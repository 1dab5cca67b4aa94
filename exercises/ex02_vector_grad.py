"""Exercise 2 · The gradient of a summed vector  ·  练习 2 · 向量求和后的梯度

backward() with no argument needs a scalar. When f(x) has many elements, reduce
it first, most often with .sum(): the gradient of f(x).sum() has one entry per
element of x, each the derivative of the total with respect to that element.

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x**2 + 2*x + 7).sum()
    y.backward()
    x.grad                    # tensor([4., 6.])   (2x + 2 at each element)

Your task: return the gradient of f(x).sum() with respect to x, for x of any
shape (0-d to 3-d). Same shape, dtype and device as x; no grad of its own.

不带参数的 backward() 只能作用于标量。f(x) 有多个元素时，先把它变成标量，
最常见的是 .sum()：f(x).sum() 的梯度与 x 形状相同，每个元素是总和对该元素的导数。

任务：返回 f(x).sum() 对 x 的梯度，x 可以是任意形状（0 维到 3 维）。
结果的形状、dtype、device 与 x 相同，且本身不需要梯度。
"""

import torch


def vector_grad(f, x):
    raise NotImplementedError("exercise 2 (vector_grad): return the gradient of f(x).sum() w.r.t. x")
