"""Exercise 4 · Switching gradients off  ·  练习 4 · 关闭梯度计算

Recording a graph costs memory and time. When you only need values (evaluating
a model, updating weights), switch recording off:

    with torch.no_grad():          # a context manager ...
        y = x**2 + 2*x + 3         # y.requires_grad is False

    @torch.no_grad()               # ... or a decorator
    def evaluate(x): ...

Both restore the previous mode afterwards. torch.set_grad_enabled(False) on its
own switches recording off for everything that follows, until switched back.

Your task: return f(x) computed with no graph recorded at all. x requires grad,
and f may use weights that require grad (like a model's parameters). The result
must not require grad or have a grad_fn, no .grad may appear anywhere, and the
grad mode must be the same after your function as before it.

记录计算图需要内存和时间。只需要数值时（评估模型、更新权重），关掉记录：
用上下文管理器 with torch.no_grad():，或装饰器 @torch.no_grad()。两者结束后都会
恢复原来的模式；单独调用 torch.set_grad_enabled(False) 则会一直关着。

任务：在完全不记录计算图的情况下返回 f(x)。x 需要梯度，f 也可能用到需要梯度的权重。
结果不能需要梯度、不能有 grad_fn，任何地方都不能出现 .grad，
函数返回后的梯度模式必须与调用前相同。
"""

import torch


def evaluate_without_grad(f, x):
    raise NotImplementedError("exercise 4 (evaluate_without_grad): return f(x) without recording a graph")
