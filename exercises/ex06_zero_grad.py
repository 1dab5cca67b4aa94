"""Exercise 6 · Zeroing gradients  ·  练习 6 · 梯度清零

Because gradients accumulate, a training loop clears them before every backward():
x.grad.zero_() empties the existing tensor in place; x.grad = None drops it.

    for f in (f1, f2):
        if x.grad is not None:
            x.grad.zero_()
        f(x).sum().backward()     # x.grad now holds f's gradient alone

Careful: x.grad is one tensor that is reused. If you keep it in a list and then
zero it, the list entry changes too; keep a copy (x.grad.clone()).

Your task: for each function in fs, in order, compute the gradient of f(x).sum()
alone (x may hold a stale .grad) and return the list of these gradients. They
must not depend on each other or on what happens to x.grad afterwards.

梯度会累加，所以训练循环在每次 backward() 之前都要清空：x.grad.zero_() 原地清零，
x.grad = None 直接丢掉。注意 x.grad 是同一个张量；把它放进列表再清零，
列表里的值也会跟着变，要保存副本（x.grad.clone()）。

任务：按顺序对 fs 中每个函数单独求 f(x).sum() 的梯度（x 可能带着旧的 .grad），
返回这些梯度组成的列表。它们彼此独立，也不受之后 x.grad 变化的影响。
"""

import torch


def fresh_grads(fs, x):
    raise NotImplementedError("exercise 6 (fresh_grads): return one fresh gradient per function")
