"""Exercise 15 (reference solution): from a tensor to NumPy, from any device."""


def to_numpy(t):
    return t.detach().cpu().numpy()  # out of the graph, into main memory, then NumPy
