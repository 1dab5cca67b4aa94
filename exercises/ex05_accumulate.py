"""Exercise 5 · Gradients accumulate  ·  练习 5 · 梯度会累加

backward() does not overwrite .grad: it adds the new gradient to whatever is
already there. Run it three times and x.grad holds three times the gradient.

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        (x**2 + 2*x + 7).sum().backward()
    x.grad                    # tensor([12., 18.])  = 3 * (2x + 2)

Your task: call backward() of f(x).sum() `times` times without clearing x.grad,
then return x.grad. x is a leaf that requires grad and may already hold a .grad
from earlier work: keep it, so the answer is old grad + times * gradient.

backward() 不会覆盖 .grad，而是把新梯度加到已有的值上。运行三次，x.grad 就是三倍梯度。

任务：对 f(x).sum() 调用 backward() 共 times 次，中间不清空 x.grad，然后返回 x.grad。
x 是需要梯度的叶子，可能已经带着以前留下的 .grad：保留它，
所以答案是 原有梯度 + times × 梯度。
"""

import torch


def accumulated_grad(f, x, times):
    raise NotImplementedError("exercise 5 (accumulated_grad): run backward() `times` times and return x.grad")
