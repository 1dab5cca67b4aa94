"""Exercise 6 (reference solution): clear .grad before each backward()."""


def fresh_grads(fs, x):
    grads = []
    for f in fs:
        if x.grad is not None:
            x.grad.zero_()  # forget what earlier backward() calls left
        f(x).sum().backward()
        grads.append(x.grad.clone())  # a copy: the next zero_() must not change it
    return grads
