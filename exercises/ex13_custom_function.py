"""Exercise 13 · A straight-through gradient  ·  练习 13 · 直通梯度

Rounding is flat almost everywhere, so its derivative is zero and nothing can
learn through torch.round. The straight-through estimator rounds in the forward
pass but lets the gradient pass back unchanged, as if rounding were the
identity. There are two ways to get that from autograd:

- a torch.autograd.Function subclass, whose static forward(ctx, x) computes the
  value and whose static backward(ctx, grad_output) returns the gradient for x;
  you call it with MyFunction.apply(x);

- the detach trick: in a + (b - a).detach(), the value is b, but the gradient
  flows only through a, because the detached part is a constant to autograd.

    class Double(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x
        @staticmethod
        def backward(ctx, grad_output):
            return 2 * grad_output    # d(2x)/dx = 2, times what arrives from above

Your task: return torch.round(x) (halves round to even, as torch.round does),
with a straight-through gradient: the gradient of (round_ste(x) * w).sum() with
respect to x must be w, for any w. Any shape, dtype and device. When x requires
grad the result requires grad; under torch.no_grad() nothing is recorded; x
itself is left as it was.

取整函数几乎处处平坦，导数为零，所以梯度无法穿过 torch.round。直通估计器
（straight-through estimator）在前向时取整，反向时却把梯度原样传回，就好像取整是
恒等函数。在 autograd 里有两种写法：

- 继承 torch.autograd.Function，静态方法 forward(ctx, x) 计算值，静态方法
  backward(ctx, grad_output) 返回对 x 的梯度，用 MyFunction.apply(x) 调用；

- detach 技巧：a + (b - a).detach() 的值是 b，但梯度只经过 a 流回，因为被
  detach 的部分对 autograd 来说是常数。

任务：返回 torch.round(x)（恰好在 .5 时取偶数，与 torch.round 相同），并让梯度直通：
对任意 w，(round_ste(x) * w).sum() 对 x 的梯度必须等于 w。任意形状、dtype 和 device 都要支持。
x 需要梯度时，结果也需要梯度；在 torch.no_grad() 下不记录任何计算图；x 本身保持不变。
"""

import torch


def round_ste(x):
    raise NotImplementedError(
        "exercise 13 (round_ste): round x, and let the gradient pass straight through"
    )
