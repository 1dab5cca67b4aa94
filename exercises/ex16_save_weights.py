"""Exercise 16 · Saving weights  ·  练习 16 · 保存权重

torch.save(obj, path) pickles obj (a tensor, or a list or dict of them) into a
file; torch.load(path, weights_only=True) reads it back, and refuses anything
that is not plain data. Three details decide whether the file is any good:

- A tensor is saved with its requires_grad flag: save w.detach() so the loaded
  weights are plain data, not leaves of a new graph.

- A tensor is saved with the device it lives on, so weights saved straight from
  a GPU fail to load on a machine without one. Move them with .cpu() first.

- A view is saved with its whole storage. Parameters are often views into one
  large buffer (a flat parameter store), and saving such a view writes the
  whole buffer. .clone() gives a tensor with a storage of its own; .cpu() copies
  only when the tensor is not on the CPU already.

    torch.save(w.detach(), "w.pt")            # as in the tutorial
    w2 = torch.load("w.pt", weights_only=True)

Your task: params is a list of leaf tensors that require grad, possibly on a
GPU, possibly views into one larger buffer. Write path with torch.save, so that
torch.load(path, weights_only=True) on a machine without a GPU (and without
map_location) gives a list of CPU tensors equal to params, in the same order,
with the same dtypes and shapes, that do not require grad. The file holds only
the weights: at most 1.5 times their size plus 16 KiB. Leave params as they
were.

torch.save(obj, path) 把 obj（一个张量，或者由张量组成的列表、字典）用 pickle 写进文件；
torch.load(path, weights_only=True) 把它读回来，并拒绝任何不是普通数据的东西。有三个
细节决定这个文件是否可用：

- 张量保存时会带上它的 requires_grad 标志：保存 w.detach()，这样读回来的权重是普通数据，
  而不是新计算图里的叶子节点。

- 张量保存时会带上它所在的设备，所以直接从 GPU 保存的权重，在没有 GPU 的机器上无法加载。
  请先用 .cpu() 把它们移过去。

- 视图（view）保存时会带上它的整个存储。参数常常是同一个大缓冲区（扁平参数存储）里的视图，
  保存这样的视图会把整个缓冲区写进去。.clone() 得到一个拥有独立存储的张量；.cpu() 只有在
  张量不在 CPU 上时才会复制。

任务：params 是一个列表，里面是需要梯度的叶子张量，可能在 GPU 上，也可能是同一个大缓冲区里
的视图。用 torch.save 写入 path，使得在没有 GPU 的机器上执行 torch.load(path,
weights_only=True)（不带 map_location）能得到一个 CPU 张量列表：顺序、dtype、形状和数值都与
params 相同，并且不需要梯度。文件里只放权重：最多是它们大小的 1.5 倍再加 16 KiB。params
本身保持不变。
"""

import torch


def save_weights(params, path):
    raise NotImplementedError("exercise 16 (save_weights): write params to path with torch.save")
