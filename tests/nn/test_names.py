"""Parameters carry their attribute path as .name, so rendered graphs read like state_dict()."""

from __future__ import annotations

import numpy as np

from tinygrad_nnfs import Tensor, draw_graph
from tinygrad_nnfs.nn import Dense, Module, ReLU, Sequential, SoftmaxCrossEntropy


class Block(Module):
    def __init__(self):  # no super().__init__(): naming still works
        self.dense = Dense(2, 3)
        self.activation = ReLU()
        self.scale = Tensor(1.0, requires_grad=True)


class Model(Module):
    def __init__(self):
        self.dense1 = Dense(2, 2)
        self.block = Block()
        self.heads = [Dense(3, 1), Dense(3, 1)]
        self.pair = (ReLU(), Dense(1, 1))
        self.net = Sequential(Dense(1, 2), ReLU(), Dense(2, 3))

    def forward(self, inputs):
        hidden = self.block.dense(self.dense1(inputs)) * self.block.scale
        self.output = self.net(self.pair[1](self.heads[0](hidden)))
        return self.output


def names(model):
    return [(path, param.name) for path, param in model.named_parameters()]


def test_names_are_the_attribute_paths_of_named_parameters():
    model = Model()
    assert all(path == name for path, name in names(model))
    assert [name for _, name in names(model)][:5] == [
        "dense1.weights",
        "dense1.biases",
        "block.dense.weights",
        "block.dense.biases",
        "block.scale",
    ]
    assert model.heads[1].biases.name == "heads.1.biases"
    assert model.pair[1].weights.name == "pair.1.weights"
    assert model.net[2].weights.name == "net.2.weights"


def test_a_standalone_layer_and_a_sequential_name_their_own_parameters():
    assert (Dense(2, 3).weights.name, Dense(2, 3).biases.name) == ("weights", "biases")
    model = Sequential(Dense(2, 4), ReLU(), Dense(4, 3))
    assert [name for _, name in names(model)] == ["0.weights", "0.biases", "2.weights", "2.biases"]


def test_forward_names_no_activation_and_renames_nothing():
    model = Model()
    before = names(model)
    model(np.ones((2, 2), dtype=np.float32)).sum().backward()
    assert model.output.name is None
    assert names(model) == before


def test_a_name_the_user_chose_is_kept():
    layer = Dense(2, 2)
    layer.weights.name = "W1"  # renamed before the layer joins a model

    class Named(Module):
        def __init__(self):
            self.dense1 = layer
            self.scale = Tensor(1.0, requires_grad=True, name="scale")  # chosen, not given

    class Outer(Module):
        def __init__(self):
            self.inner = Named()

    outer = Outer()
    assert [name for _, name in names(outer)] == ["W1", "inner.dense1.biases", "scale"]
    outer.inner.dense1.biases.name = "b1"  # renamed after: a later parent keeps it too
    wrapper = Sequential(outer)
    assert [name for _, name in names(wrapper)] == ["W1", "b1", "scale"]


def test_shared_and_resliced_parameters_keep_their_first_path():
    class Tied(Module):
        def __init__(self):
            self.first = Dense(3, 3)
            self.second = self.first
            self.weights = self.first.weights

    tied = Tied()
    assert (tied.second.weights.name, tied.weights.name) == ("first.weights", "first.weights")
    model = Sequential(Dense(2, 4), ReLU(), Dense(4, 3))
    tail = model[1:]
    assert tail[1].weights.name == "2.weights"  # still model's "2", not the slice's "1"


def test_rendered_graph_of_a_model_reads_layer_and_loss_names():
    model = Model()
    X = np.random.RandomState(0).randn(4, 2).astype(np.float32)
    loss = SoftmaxCrossEntropy()(model(X), np.array([0, 1, 2, 0]))
    loss.backward()
    source = draw_graph(loss).source
    for name in ["dense1.weights", "block.dense.biases", "block.scale", "net.2.weights"]:
        assert f"<B>{name}</B>" in source
    assert "<B>softmax_xent</B>" in source
