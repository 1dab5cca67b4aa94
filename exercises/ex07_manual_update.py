"""Exercise 7 · A manual update loop  ·  练习 7 · 手动更新参数

Training repeats: clear gradients, compute the loss, backward(), then move each
parameter a small step against its gradient: p ← p − lr · p.grad. The update
itself must not be recorded, so do it inside torch.no_grad() (or on p.data):

    with torch.no_grad():
        w -= lr * w.grad

A classic copy-paste bug updates one parameter from another one's data, e.g.
w2.data = w1.data - lr * w2.grad. Each parameter moves from its own value.

Your task: run `steps` steps of plain gradient descent on the loss
f(*params).mean(), clearing gradients each step (params may hold stale .grad),
updating each parameter in place (the same tensor objects, still leaves that
require grad), without torch.optim. Return params. A parameter that the loss
does not use gets no gradient (its .grad stays None): leave it where it is, as
torch.optim does.

训练就是不断重复：清空梯度、计算损失、backward()，再让每个参数沿梯度反方向走一小步：
p ← p − lr · p.grad。更新本身不能被记录，所以放在 torch.no_grad() 里做（或操作 p.data）。
常见的复制粘贴错误是用别的参数的数据来更新，例如 w2.data = w1.data - lr * w2.grad。

任务：对损失 f(*params).mean() 做 steps 步普通梯度下降，每步清空梯度（参数可能带着旧的
.grad），原地更新每个参数（还是原来的张量对象，仍是需要梯度的叶子），不用 torch.optim。
返回 params。损失没有用到的参数得不到梯度（它的 .grad 仍是 None）：像 torch.optim
那样让它保持不动。
"""

import torch


def gradient_descent(f, params, lr, steps):
    raise NotImplementedError("exercise 7 (gradient_descent): update params in place and return them")
