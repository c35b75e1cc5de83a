"""Optimizers with the book's update rules and learning-rate decay."""

from tinygrad_nnfs.optim.adagrad import Adagrad
from tinygrad_nnfs.optim.adam import Adam
from tinygrad_nnfs.optim.optimizer import Optimizer
from tinygrad_nnfs.optim.rmsprop import RMSprop
from tinygrad_nnfs.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "Optimizer", "RMSprop"]
