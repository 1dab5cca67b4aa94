"""Exercise 11 · Gradients at intermediate tensors  ·  练习 11 · 中间张量的梯度

backward() stores gradients only in leaves. A tensor computed along the way, such
as y = f(x), is not a leaf: its .grad stays None unless you ask for it. Three
ways to see dL/dy:

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3                        # an intermediate tensor, not a leaf
    y.retain_grad()                  # 1. keep y's gradient in y.grad
    seen = []
    y.register_hook(seen.append)     # 2. a hook is called with dL/dy during backward
    L = (y ** 2).sum()
    L.backward()
    y.grad                           # tensor([ 6., 12.])  = 2y
    x.grad                           # tensor([18., 36.])  = 2y * 3
    # 3. torch.autograd.grad(L, (y, x)) returns both and touches no .grad at all

Your task: let y = f(x) and L = g(y).sum(). Return the pair (dL/dy, dL/dx) from
one backward pass: call f and g once each. x is a leaf that requires grad and may
already hold a .grad. When your function returns, x.grad must be exactly what it
was before (backward() adds to it: set it aside first, or use
torch.autograd.grad). Return tensors that do not require grad.

backward() 只把梯度存进叶子节点。计算过程中得到的张量（例如 y = f(x)）不是叶子，
除非你主动要求，它的 .grad 一直是 None。想看到 dL/dy 有三种办法：在反向传播前调用
y.retain_grad()；用 y.register_hook(...) 注册一个钩子，反向传播时它会收到 dL/dy；
或者用 torch.autograd.grad(L, (y, x)) 一次求出两个梯度，而且不改动任何 .grad。

任务：设 y = f(x)，L = g(y).sum()。通过一次反向传播返回 (dL/dy, dL/dx)：f 和 g
各只调用一次。x 是需要梯度的叶子，可能已经带着 .grad。函数返回时 x.grad 必须和调用前
完全一样（backward() 会累加到它上面：先把它存起来，或者改用 torch.autograd.grad）。
返回的张量不需要梯度。
"""

import torch


def intermediate_grads(f, g, x):
    raise NotImplementedError("exercise 11 (intermediate_grads): return (dL/dy, dL/dx) from one backward pass")
