"""An autograder and exercises for learning torch.autograd."""

__version__ = "0.1.0"
