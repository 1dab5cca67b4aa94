"""Exercise 15 · From a tensor to NumPy  ·  练习 15 · 从张量到 NumPy

t.numpy() gives a NumPy array that shares t's memory, without a copy. Two
things stop it. A tensor that requires grad refuses, because NumPy cannot
record operations for autograd: take it out of the graph first with detach().
And NumPy only knows the computer's main memory, so a tensor on a GPU must be
copied to the CPU first with .cpu() (on a tensor already on the CPU, .cpu()
changes nothing). The dtype carries over: float32 stays float32.

    w = torch.rand(3, requires_grad=True)
    w.numpy()                 # RuntimeError: Can't call numpy() on Tensor that requires grad
    w.detach().numpy()        # works on the CPU; on a GPU: TypeError, copy to the host first
    w.detach().cpu().numpy()  # works everywhere

Your task: return a NumPy array with t's shape, values and dtype. t may require
grad (it may even be the result of a computation), may have any layout in
memory, and may live on a GPU. Leave t as it was.

t.numpy() 返回一个与 t 共享内存的 NumPy 数组，不做复制。有两种情况会让它失败。
需要梯度的张量会拒绝转换，因为 NumPy 无法为 autograd 记录运算：先用 detach() 把它
从计算图中取出来。另外，NumPy 只认识计算机的主内存，所以 GPU 上的张量必须先用 .cpu()
复制到 CPU（对已经在 CPU 上的张量，.cpu() 什么也不改变）。dtype 保持不变：float32
仍是 float32。

任务：返回一个与 t 形状、数值和 dtype 都相同的 NumPy 数组。t 可能需要梯度（甚至可能是
某个计算的结果），在内存中可能是任意布局，也可能位于 GPU 上。t 本身保持不变。
"""

import torch


def to_numpy(t):
    raise NotImplementedError("exercise 15 (to_numpy): return t as a NumPy array")
