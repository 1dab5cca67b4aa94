"""Exercise 16 (reference solution): weights any machine can load, and no more."""

import torch


def save_weights(params, path):
    # detach: plain data, no requires_grad; cpu: loadable without a GPU;
    # clone: a storage of its own (a view would bring its whole buffer along)
    torch.save([p.detach().cpu().clone() for p in params], path)
