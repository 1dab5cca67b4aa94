"""Exercise 10 · Higher-order gradients  ·  练习 10 · 高阶导数

A gradient is itself computed by operations, and autograd can record them too:
pass create_graph=True and the gradient comes back as a tensor with a graph of
its own, so you can differentiate it again. That is how second derivatives are
built without ever writing out the Hessian matrix H.

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x[0]**2 * x[1]                                     # H = [[2*x1, 2*x0], [2*x0, 0]]
    (g,) = torch.autograd.grad(y, x, create_graph=True)    # g = [2*x0*x1, x0**2], with a graph
    v = torch.tensor([1.0, 0.0])
    (hv,) = torch.autograd.grad(g, x, grad_outputs=v)      # H @ v = [4., 2.]

grad_outputs=v asks for the gradient of (g * v).sum(): since v does not depend on
x, that is exactly H·v. Without create_graph=True, g is a plain tensor with no
graph, and the second call fails. torch.func.jvp(torch.func.grad(f), (x,), (v,))
and torch.autograd.functional.hvp(f, x, v) give the same product.

Your task: f maps x (of any shape) to a 0-d tensor, and v has x's shape. Return
the Hessian-vector product H(x)·v, in x's shape, computed with autograd. x does
not require grad; leave x and v as they are, and return a tensor with x's dtype
and device that does not require grad.

梯度本身也是由运算算出来的，autograd 同样可以记录这些运算：传入 create_graph=True，
得到的梯度就带有自己的计算图，可以再求一次导。这样不用写出整个 Hessian 矩阵 H，
也能得到二阶导数。grad_outputs=v 求的是 (g * v).sum() 的梯度，因为 v 与 x 无关，
结果正好是 H·v。没有 create_graph=True 时 g 没有计算图，第二次求导会报错。
torch.func.jvp(torch.func.grad(f), (x,), (v,)) 和 torch.autograd.functional.hvp(f, x, v)
也能得到同样的乘积。

任务：f 把任意形状的 x 映射为 0 维张量，v 与 x 形状相同。用自动微分计算 Hessian
与向量的乘积 H(x)·v，以 x 的形状返回。x 不需要梯度；不要改动 x 和 v，
返回的张量与 x 的 dtype 和 device 相同，且不需要梯度。
"""

import torch


def hvp(f, x, v):
    raise NotImplementedError("exercise 10 (hvp): return H(x)·v by differentiating the gradient once more")
