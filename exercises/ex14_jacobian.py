"""Exercise 14 · The Jacobian, row by row  ·  练习 14 · 逐行求雅可比矩阵

When f maps a vector x of n numbers to a vector y of m numbers, its derivative
is an m-by-n matrix, the Jacobian: row i holds the gradient of y[i], entry
(i, j) is dy[i]/dx[j]. One backward pass gives one vector-Jacobian product,
the gradient of (v * y).sum() for the v you pass as grad_outputs. With v = e_i
(1 at position i, 0 elsewhere) that is row i. So: one backward per row. The
graph is freed after a backward, unless you ask to keep it (retain_graph=True).

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.stack([x[0] * x[1], x[0] + 3 * x[1], x[1] ** 2])   # m = 3, n = 2
    row = torch.autograd.grad(y, x, grad_outputs=torch.tensor([1.0, 0.0, 0.0]),
                              retain_graph=True)[0]               # tensor([2., 1.])

PyTorch also has this built in: torch.autograd.functional.jacobian(f, x), and
torch.func.jacrev(f)(x) (reverse mode) or torch.func.jacfwd(f)(x) (forward mode).

Your task: x is 1-d with n elements and f(x) is 1-d with m elements (m and n
usually differ). Return the Jacobian as a tensor of shape (m, n), with x's
dtype and device, that does not require grad. Compute it with autograd. Leave x
and f's weights as they were: no new .grad anywhere.

当 f 把含 n 个数的向量 x 映射为含 m 个数的向量 y 时，它的导数是一个 m×n 的矩阵，
即雅可比矩阵：第 i 行是 y[i] 的梯度，第 (i, j) 个元素是 dy[i]/dx[j]。一次反向传播
给出一个向量-雅可比积，也就是 (v * y).sum() 的梯度，v 通过 grad_outputs 传入。
取 v = e_i（第 i 个位置为 1，其余为 0），得到的就是第 i 行。所以每一行做一次反向传播。
反向传播之后计算图会被释放，除非你要求保留它（retain_graph=True）。PyTorch 也内置了
这个功能：torch.autograd.functional.jacobian(f, x)，以及 torch.func.jacrev(f)(x)
（反向模式）或 torch.func.jacfwd(f)(x)（前向模式）。

任务：x 是含 n 个元素的一维张量，f(x) 是含 m 个元素的一维张量（m 和 n 通常不相等）。
返回形状为 (m, n) 的雅可比矩阵，dtype 和 device 与 x 相同，且不需要梯度。请用自动微分
计算。x 和 f 的权重保持原样：任何地方都不要出现新的 .grad。
"""

import torch


def jacobian(f, x):
    raise NotImplementedError("exercise 14 (jacobian): return the (m, n) Jacobian of f at x")
