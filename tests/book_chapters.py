"""The book's own code of NNFS chapters 15-22, transcribed as printed: the reference the tests
run beside the library.

Source: github.com/Sentdex/nnfs_book, Chapter_15/Ch15_Final.py ... Chapter_22/Ch22_Final.py.
The classes are Ch22_Final.py's with the book's names, arithmetic, expression order and dtypes
untouched (lines reformatted, comments dropped). Deviations from the book's text, each marked
in place with "Deviation:":

- random draws go through a stream: Layer_Dense(..., rng=np.random) and
  Layer_Dropout(rate, rng=None) (None: np.random at each draw). Under
  book_reference.nnfs_init_numpy() the default is the book's own `np.random` call;
- Model(log=print): every print of Model goes through `self.log`;
- no cv2: Ch22's image loading (load_mnist_dataset, create_data_mnist) and its final
  pants.png prediction are left out. Model.save/load pickle as the book does (test-only code).

run_ch15, run_ch16 and run_ch17 are the final scripts of chapters 15-17 (before the Model class
existed) as functions. They use the Ch22 classes, called with training=True: in those chapters
forward(inputs) had no `training` argument and the arithmetic is the same. Where a chapter's
class differs from Ch22's, the chapter's own version is transcribed below as Ch15_*/Ch16_*/
Ch17_* (see their docstrings).
"""

from __future__ import annotations

import copy
import pickle
from typing import Any, NamedTuple

import numpy as np

# --------------------------------------------------------------------------------------------
# Chapter 22 (Ch22_Final.py)
# --------------------------------------------------------------------------------------------


class Layer_Dense:
    # Deviation: keyword `rng`, the stream of the weights' draw (the book: np.random).
    def __init__(
        self,
        n_inputs,
        n_neurons,
        weight_regularizer_l1=0,
        weight_regularizer_l2=0,
        bias_regularizer_l1=0,
        bias_regularizer_l2=0,
        *,
        rng=np.random,
    ):
        self.weights = 0.01 * rng.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2

    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)

        if self.weight_regularizer_l1 > 0:
            dL1 = np.ones_like(self.weights)
            dL1[self.weights < 0] = -1
            self.dweights += self.weight_regularizer_l1 * dL1
        if self.weight_regularizer_l2 > 0:
            self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l1 > 0:
            dL1 = np.ones_like(self.biases)
            dL1[self.biases < 0] = -1
            self.dbiases += self.bias_regularizer_l1 * dL1
        if self.bias_regularizer_l2 > 0:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases

        self.dinputs = np.dot(dvalues, self.weights.T)

    def get_parameters(self):
        return self.weights, self.biases

    def set_parameters(self, weights, biases):
        self.weights = weights
        self.biases = biases


class Layer_Dropout:
    # Deviation: keyword `rng`, the stream of the masks' draws (the book: np.random). None
    # looks np.random up at each draw, so a model holding this layer stays deep-copyable
    # (Model.save deep-copies it; a module object cannot be).
    def __init__(self, rate, *, rng=None):
        self.rate = 1 - rate
        self.rng = rng

    def forward(self, inputs, training):
        self.inputs = inputs

        if not training:
            self.output = inputs.copy()
            return

        rng = np.random if self.rng is None else self.rng  # Deviation: the stream
        self.binary_mask = rng.binomial(1, self.rate, size=inputs.shape) / self.rate
        self.output = inputs * self.binary_mask

    def backward(self, dvalues):
        self.dinputs = dvalues * self.binary_mask


class Layer_Input:
    def forward(self, inputs, training):
        self.output = inputs


class Activation_ReLU:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0

    def predictions(self, outputs):
        return outputs


class Activation_Softmax:
    def forward(self, inputs, training):
        self.inputs = inputs
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        probabilities = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        self.output = probabilities

    def backward(self, dvalues):
        self.dinputs = np.empty_like(dvalues)
        for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):  # noqa: B905
            single_output = single_output.reshape(-1, 1)
            jacobian_matrix = np.diagflat(single_output) - np.dot(single_output, single_output.T)
            self.dinputs[index] = np.dot(jacobian_matrix, single_dvalues)

    def predictions(self, outputs):
        return np.argmax(outputs, axis=1)


class Activation_Sigmoid:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = 1 / (1 + np.exp(-inputs))

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output) * self.output

    def predictions(self, outputs):
        return (outputs > 0.5) * 1


class Activation_Linear:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = inputs

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()

    def predictions(self, outputs):
        return outputs


class Optimizer_SGD:
    def __init__(self, learning_rate=1.0, decay=0.0, momentum=0.0):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.momentum = momentum

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer):
        if self.momentum:
            if not hasattr(layer, "weight_momentums"):
                layer.weight_momentums = np.zeros_like(layer.weights)
                layer.bias_momentums = np.zeros_like(layer.biases)

            weight_updates = (
                self.momentum * layer.weight_momentums - self.current_learning_rate * layer.dweights
            )
            layer.weight_momentums = weight_updates

            bias_updates = (
                self.momentum * layer.bias_momentums - self.current_learning_rate * layer.dbiases
            )
            layer.bias_momentums = bias_updates

        else:
            weight_updates = -self.current_learning_rate * layer.dweights
            bias_updates = -self.current_learning_rate * layer.dbiases

        layer.weights += weight_updates
        layer.biases += bias_updates

    def post_update_params(self):
        self.iterations += 1


class Optimizer_Adagrad:
    def __init__(self, learning_rate=1.0, decay=0.0, epsilon=1e-7):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)

        layer.weight_cache += layer.dweights**2
        layer.bias_cache += layer.dbiases**2

        layer.weights += (
            -self.current_learning_rate
            * layer.dweights
            / (np.sqrt(layer.weight_cache) + self.epsilon)
        )
        layer.biases += (
            -self.current_learning_rate * layer.dbiases / (np.sqrt(layer.bias_cache) + self.epsilon)
        )

    def post_update_params(self):
        self.iterations += 1


class Optimizer_RMSprop:
    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon
        self.rho = rho

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)

        layer.weight_cache = self.rho * layer.weight_cache + (1 - self.rho) * layer.dweights**2
        layer.bias_cache = self.rho * layer.bias_cache + (1 - self.rho) * layer.dbiases**2

        layer.weights += (
            -self.current_learning_rate
            * layer.dweights
            / (np.sqrt(layer.weight_cache) + self.epsilon)
        )
        layer.biases += (
            -self.current_learning_rate * layer.dbiases / (np.sqrt(layer.bias_cache) + self.epsilon)
        )

    def post_update_params(self):
        self.iterations += 1


class Optimizer_Adam:
    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)

        layer.weight_momentums = (
            self.beta_1 * layer.weight_momentums + (1 - self.beta_1) * layer.dweights
        )
        layer.bias_momentums = (
            self.beta_1 * layer.bias_momentums + (1 - self.beta_1) * layer.dbiases
        )
        weight_momentums_corrected = layer.weight_momentums / (
            1 - self.beta_1 ** (self.iterations + 1)
        )
        bias_momentums_corrected = layer.bias_momentums / (1 - self.beta_1 ** (self.iterations + 1))
        layer.weight_cache = (
            self.beta_2 * layer.weight_cache + (1 - self.beta_2) * layer.dweights**2
        )
        layer.bias_cache = self.beta_2 * layer.bias_cache + (1 - self.beta_2) * layer.dbiases**2
        weight_cache_corrected = layer.weight_cache / (1 - self.beta_2 ** (self.iterations + 1))
        bias_cache_corrected = layer.bias_cache / (1 - self.beta_2 ** (self.iterations + 1))

        layer.weights += (
            -self.current_learning_rate
            * weight_momentums_corrected
            / (np.sqrt(weight_cache_corrected) + self.epsilon)
        )
        layer.biases += (
            -self.current_learning_rate
            * bias_momentums_corrected
            / (np.sqrt(bias_cache_corrected) + self.epsilon)
        )

    def post_update_params(self):
        self.iterations += 1


class Loss:
    def regularization_loss(self):
        regularization_loss = 0

        for layer in self.trainable_layers:
            if layer.weight_regularizer_l1 > 0:
                regularization_loss += layer.weight_regularizer_l1 * np.sum(np.abs(layer.weights))
            if layer.weight_regularizer_l2 > 0:
                regularization_loss += layer.weight_regularizer_l2 * np.sum(
                    layer.weights * layer.weights
                )
            if layer.bias_regularizer_l1 > 0:
                regularization_loss += layer.bias_regularizer_l1 * np.sum(np.abs(layer.biases))
            if layer.bias_regularizer_l2 > 0:
                regularization_loss += layer.bias_regularizer_l2 * np.sum(
                    layer.biases * layer.biases
                )

        return regularization_loss

    def remember_trainable_layers(self, trainable_layers):
        self.trainable_layers = trainable_layers

    def calculate(self, output, y, *, include_regularization=False):
        sample_losses = self.forward(output, y)
        data_loss = np.mean(sample_losses)

        self.accumulated_sum += np.sum(sample_losses)
        self.accumulated_count += len(sample_losses)

        if not include_regularization:
            return data_loss

        return data_loss, self.regularization_loss()

    def calculate_accumulated(self, *, include_regularization=False):
        data_loss = self.accumulated_sum / self.accumulated_count

        if not include_regularization:
            return data_loss

        return data_loss, self.regularization_loss()

    def new_pass(self):
        self.accumulated_sum = 0
        self.accumulated_count = 0


class Loss_CategoricalCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        samples = len(y_pred)
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)

        if len(y_true.shape) == 1:
            correct_confidences = y_pred_clipped[range(samples), y_true]
        elif len(y_true.shape) == 2:
            correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)

        negative_log_likelihoods = -np.log(correct_confidences)
        return negative_log_likelihoods

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        labels = len(dvalues[0])

        if len(y_true.shape) == 1:
            y_true = np.eye(labels)[y_true]

        self.dinputs = -y_true / dvalues
        self.dinputs = self.dinputs / samples


class Activation_Softmax_Loss_CategoricalCrossentropy:
    def backward(self, dvalues, y_true):
        samples = len(dvalues)

        if len(y_true.shape) == 2:
            y_true = np.argmax(y_true, axis=1)

        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class Loss_BinaryCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)

        sample_losses = -(
            y_true * np.log(y_pred_clipped) + (1 - y_true) * np.log(1 - y_pred_clipped)
        )
        sample_losses = np.mean(sample_losses, axis=-1)

        return sample_losses

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        outputs = len(dvalues[0])

        clipped_dvalues = np.clip(dvalues, 1e-7, 1 - 1e-7)

        self.dinputs = -(y_true / clipped_dvalues - (1 - y_true) / (1 - clipped_dvalues)) / outputs
        self.dinputs = self.dinputs / samples


class Loss_MeanSquaredError(Loss):
    def forward(self, y_pred, y_true):
        sample_losses = np.mean((y_true - y_pred) ** 2, axis=-1)
        return sample_losses

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        outputs = len(dvalues[0])

        self.dinputs = -2 * (y_true - dvalues) / outputs
        self.dinputs = self.dinputs / samples


class Loss_MeanAbsoluteError(Loss):
    def forward(self, y_pred, y_true):
        sample_losses = np.mean(np.abs(y_true - y_pred), axis=-1)
        return sample_losses

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        outputs = len(dvalues[0])

        self.dinputs = np.sign(y_true - dvalues) / outputs
        self.dinputs = self.dinputs / samples


class Accuracy:
    def calculate(self, predictions, y):
        comparisons = self.compare(predictions, y)
        accuracy = np.mean(comparisons)

        self.accumulated_sum += np.sum(comparisons)
        self.accumulated_count += len(comparisons)

        return accuracy

    def calculate_accumulated(self):
        accuracy = self.accumulated_sum / self.accumulated_count
        return accuracy

    def new_pass(self):
        self.accumulated_sum = 0
        self.accumulated_count = 0


class Accuracy_Categorical(Accuracy):
    def __init__(self, *, binary=False):
        self.binary = binary

    def init(self, y):
        pass

    def compare(self, predictions, y):
        if not self.binary and len(y.shape) == 2:
            y = np.argmax(y, axis=1)
        return predictions == y


class Accuracy_Regression(Accuracy):
    def __init__(self):
        self.precision = None

    def init(self, y, reinit=False):
        if self.precision is None or reinit:
            self.precision = np.std(y) / 250

    def compare(self, predictions, y):
        return np.absolute(predictions - y) < self.precision


class Model:
    # Deviation: keyword `log`, called with each line the book prints (the book: print).
    def __init__(self, *, log=print):
        self.layers = []
        self.softmax_classifier_output = None
        self.log = log

    def add(self, layer):
        self.layers.append(layer)

    def set(self, *, loss=None, optimizer=None, accuracy=None):
        if loss is not None:
            self.loss = loss

        if optimizer is not None:
            self.optimizer = optimizer

        if accuracy is not None:
            self.accuracy = accuracy

    def finalize(self):
        self.input_layer = Layer_Input()

        layer_count = len(self.layers)

        self.trainable_layers = []

        for i in range(layer_count):
            if i == 0:
                self.layers[i].prev = self.input_layer
                self.layers[i].next = self.layers[i + 1]

            elif i < layer_count - 1:
                self.layers[i].prev = self.layers[i - 1]
                self.layers[i].next = self.layers[i + 1]

            else:
                self.layers[i].prev = self.layers[i - 1]
                self.layers[i].next = self.loss
                self.output_layer_activation = self.layers[i]

            if hasattr(self.layers[i], "weights"):
                self.trainable_layers.append(self.layers[i])

        if self.loss is not None:
            self.loss.remember_trainable_layers(self.trainable_layers)

        if isinstance(self.layers[-1], Activation_Softmax) and isinstance(
            self.loss, Loss_CategoricalCrossentropy
        ):
            self.softmax_classifier_output = Activation_Softmax_Loss_CategoricalCrossentropy()

    def train(self, X, y, *, epochs=1, batch_size=None, print_every=1, validation_data=None):
        self.accuracy.init(y)

        train_steps = 1

        if batch_size is not None:
            train_steps = len(X) // batch_size
            if train_steps * batch_size < len(X):
                train_steps += 1

        for epoch in range(1, epochs + 1):
            self.log(f"epoch: {epoch}")  # Deviation: self.log (the book: print)

            self.loss.new_pass()
            self.accuracy.new_pass()

            for step in range(train_steps):
                if batch_size is None:
                    batch_X = X
                    batch_y = y

                else:
                    batch_X = X[step * batch_size : (step + 1) * batch_size]
                    batch_y = y[step * batch_size : (step + 1) * batch_size]

                output = self.forward(batch_X, training=True)

                data_loss, regularization_loss = self.loss.calculate(
                    output, batch_y, include_regularization=True
                )
                loss = data_loss + regularization_loss

                predictions = self.output_layer_activation.predictions(output)
                accuracy = self.accuracy.calculate(predictions, batch_y)

                self.backward(output, batch_y)

                self.optimizer.pre_update_params()
                for layer in self.trainable_layers:
                    self.optimizer.update_params(layer)
                self.optimizer.post_update_params()

                if not step % print_every or step == train_steps - 1:
                    # Deviation: self.log (the book: print)
                    self.log(
                        f"step: {step}, "
                        + f"acc: {accuracy:.3f}, "
                        + f"loss: {loss:.3f} ("
                        + f"data_loss: {data_loss:.3f}, "
                        + f"reg_loss: {regularization_loss:.3f}), "
                        + f"lr: {self.optimizer.current_learning_rate}"
                    )

            epoch_data_loss, epoch_regularization_loss = self.loss.calculate_accumulated(
                include_regularization=True
            )
            epoch_loss = epoch_data_loss + epoch_regularization_loss
            epoch_accuracy = self.accuracy.calculate_accumulated()

            # Deviation: self.log (the book: print)
            self.log(
                "training, "
                + f"acc: {epoch_accuracy:.3f}, "
                + f"loss: {epoch_loss:.3f} ("
                + f"data_loss: {epoch_data_loss:.3f}, "
                + f"reg_loss: {epoch_regularization_loss:.3f}), "
                + f"lr: {self.optimizer.current_learning_rate}"
            )

            if validation_data is not None:
                self.evaluate(*validation_data, batch_size=batch_size)

    def evaluate(self, X_val, y_val, *, batch_size=None):
        validation_steps = 1

        if batch_size is not None:
            validation_steps = len(X_val) // batch_size
            if validation_steps * batch_size < len(X_val):
                validation_steps += 1

        self.loss.new_pass()
        self.accuracy.new_pass()

        for step in range(validation_steps):
            if batch_size is None:
                batch_X = X_val
                batch_y = y_val

            else:
                batch_X = X_val[step * batch_size : (step + 1) * batch_size]
                batch_y = y_val[step * batch_size : (step + 1) * batch_size]

            output = self.forward(batch_X, training=False)

            self.loss.calculate(output, batch_y)

            predictions = self.output_layer_activation.predictions(output)
            self.accuracy.calculate(predictions, batch_y)

        validation_loss = self.loss.calculate_accumulated()
        validation_accuracy = self.accuracy.calculate_accumulated()

        # Deviation: self.log (the book: print)
        self.log(
            "validation, " + f"acc: {validation_accuracy:.3f}, " + f"loss: {validation_loss:.3f}"
        )

    def predict(self, X, *, batch_size=None):
        prediction_steps = 1

        if batch_size is not None:
            prediction_steps = len(X) // batch_size

            if prediction_steps * batch_size < len(X):
                prediction_steps += 1

        output = []

        for step in range(prediction_steps):
            if batch_size is None:  # noqa: SIM108
                batch_X = X

            else:
                batch_X = X[step * batch_size : (step + 1) * batch_size]

            batch_output = self.forward(batch_X, training=False)

            output.append(batch_output)

        return np.vstack(output)

    def forward(self, X, training):
        self.input_layer.forward(X, training)

        for layer in self.layers:
            layer.forward(layer.prev.output, training)

        return layer.output

    def backward(self, output, y):
        if self.softmax_classifier_output is not None:
            self.softmax_classifier_output.backward(output, y)

            self.layers[-1].dinputs = self.softmax_classifier_output.dinputs

            for layer in reversed(self.layers[:-1]):
                layer.backward(layer.next.dinputs)

            return

        self.loss.backward(output, y)

        for layer in reversed(self.layers):
            layer.backward(layer.next.dinputs)

    def get_parameters(self):
        parameters = []

        for layer in self.trainable_layers:
            parameters.append(layer.get_parameters())

        return parameters

    def set_parameters(self, parameters):
        for parameter_set, layer in zip(parameters, self.trainable_layers):  # noqa: B905
            layer.set_parameters(*parameter_set)

    def save_parameters(self, path):
        with open(path, "wb") as f:
            pickle.dump(self.get_parameters(), f)

    def load_parameters(self, path):
        with open(path, "rb") as f:
            self.set_parameters(pickle.load(f))

    def save(self, path):
        model = copy.deepcopy(self)

        model.loss.new_pass()
        model.accuracy.new_pass()

        model.input_layer.__dict__.pop("output", None)
        model.loss.__dict__.pop("dinputs", None)

        for layer in model.layers:
            for property in ["inputs", "output", "dinputs", "dweights", "dbiases"]:
                layer.__dict__.pop(property, None)

        with open(path, "wb") as f:
            pickle.dump(model, f)

    @staticmethod
    def load(path):
        with open(path, "rb") as f:
            model = pickle.load(f)

        return model


# --------------------------------------------------------------------------------------------
# Chapters 15-17: the classes that differ from Ch22's
# --------------------------------------------------------------------------------------------


class Ch15_Loss:
    """The Loss of Ch15/16/17_Final.py (the same text in the three).

    Unlike Ch22's: regularization_loss takes one layer (the scripts add the layers' terms:
    `loss.regularization_loss(dense1) + loss.regularization_loss(dense2)`, where Ch22 sums
    every term into one accumulator), and calculate returns the data loss only, accumulating
    nothing.
    """

    def regularization_loss(self, layer):
        regularization_loss = 0

        if layer.weight_regularizer_l1 > 0:
            regularization_loss += layer.weight_regularizer_l1 * np.sum(np.abs(layer.weights))
        if layer.weight_regularizer_l2 > 0:
            regularization_loss += layer.weight_regularizer_l2 * np.sum(
                layer.weights * layer.weights
            )
        if layer.bias_regularizer_l1 > 0:
            regularization_loss += layer.bias_regularizer_l1 * np.sum(np.abs(layer.biases))
        if layer.bias_regularizer_l2 > 0:
            regularization_loss += layer.bias_regularizer_l2 * np.sum(layer.biases * layer.biases)

        return regularization_loss

    def calculate(self, output, y):
        sample_losses = self.forward(output, y)
        data_loss = np.mean(sample_losses)
        return data_loss


class Ch15_Loss_CategoricalCrossentropy(Ch15_Loss):
    """Ch15-17's Loss_CategoricalCrossentropy: Ch22's forward and backward (the same text)
    on Ch15_Loss."""

    forward = Loss_CategoricalCrossentropy.forward
    backward = Loss_CategoricalCrossentropy.backward


class Ch15_Activation_Softmax_Loss_CategoricalCrossentropy:
    """Ch15-17's combined softmax/cross-entropy: it still has the __init__ and forward that
    Ch22's (backward only; the Model computes the softmax and loss) dropped. backward is the
    same text as Ch22's."""

    def __init__(self):
        self.activation = Activation_Softmax()
        self.loss = Ch15_Loss_CategoricalCrossentropy()

    def forward(self, inputs, y_true):
        self.activation.forward(inputs, training=True)  # ch15: forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    backward = Activation_Softmax_Loss_CategoricalCrossentropy.backward


class Ch16_Loss_BinaryCrossentropy(Ch15_Loss):
    """Ch16-17's Loss_BinaryCrossentropy: Ch22's forward and backward (the same text) on
    Ch15_Loss."""

    forward = Loss_BinaryCrossentropy.forward
    backward = Loss_BinaryCrossentropy.backward


class Ch17_Loss_MeanSquaredError(Ch15_Loss):
    """Ch17's Loss_MeanSquaredError: Ch22's forward and backward (the same text) on
    Ch15_Loss."""

    forward = Loss_MeanSquaredError.forward
    backward = Loss_MeanSquaredError.backward


class Ch17_Layer_Dense(Layer_Dense):
    """Ch17_Final.py's Layer_Dense: weights drawn as 0.1 * randn (the chapter's fix for the
    sine regression; Ch15, Ch16 and Ch18-22 use 0.01). The rest is Ch22's text."""

    def __init__(
        self,
        n_inputs,
        n_neurons,
        weight_regularizer_l1=0,
        weight_regularizer_l2=0,
        bias_regularizer_l1=0,
        bias_regularizer_l2=0,
        *,
        rng=np.random,  # Deviation: the stream (the book: np.random)
    ):
        self.weights = 0.1 * rng.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2


# --------------------------------------------------------------------------------------------
# Chapters 15-17: the final scripts as functions
# --------------------------------------------------------------------------------------------


class ChapterRun(NamedTuple):
    """What run_ch15/16/17 return.

    log: the lines the book prints, in order: every 100th epoch's line (`if not epoch % 100`),
        then the "validation, ..." line if the run had test data.
    history: one dict per epoch, {"loss", "data_loss", "reg_loss", "acc", "lr"}, Python floats
        of the book's values as it computes them; "lr" is optimizer.current_learning_rate at
        the print, before that epoch's update.
    layers: the Dense layers (dense1, dense2[, dense3]) after the last update.
    validation: {"acc", "loss"} of the out-of-sample check (Python floats), or None.
    """

    log: list[str]
    history: list[dict[str, float]]
    layers: tuple[Any, ...]
    validation: dict[str, float] | None


def _epoch_line(epoch, accuracy, loss, data_loss, regularization_loss, optimizer):
    return (
        f"epoch: {epoch}, "
        + f"acc: {accuracy:.3f}, "
        + f"loss: {loss:.3f} ("
        + f"data_loss: {data_loss:.3f}, "
        + f"reg_loss: {regularization_loss:.3f}), "
        + f"lr: {optimizer.current_learning_rate}"
    )


def _record(accuracy, loss, data_loss, regularization_loss, optimizer):
    return {
        "loss": float(loss),
        "data_loss": float(data_loss),
        "reg_loss": float(regularization_loss),
        "acc": float(accuracy),
        "lr": float(optimizer.current_learning_rate),
    }


def _test_data(test_data):
    return test_data() if callable(test_data) else test_data


def run_ch15(X, y, rng, epochs=10001, test_data=None) -> ChapterRun:
    """Ch15_Final.py: the spiral classifier with L2 regularization and dropout.

    The book: X, y = spiral_data(samples=1000, classes=3), 10001 epochs. `rng` draws the
    weights and dropout masks (np.random under nnfs_init_numpy(), or a RandomState).
    `test_data` is (X_test, y_test) or a callable returning them, called after training,
    where the book draws spiral_data(samples=100, classes=3) from the same stream.
    """
    dense1 = Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4, rng=rng)
    activation1 = Activation_ReLU()
    dropout1 = Layer_Dropout(0.1, rng=rng)
    dense2 = Layer_Dense(64, 3, rng=rng)
    loss_activation = Ch15_Activation_Softmax_Loss_CategoricalCrossentropy()
    optimizer = Optimizer_Adam(learning_rate=0.05, decay=5e-5)

    log, history = [], []
    for epoch in range(epochs):
        dense1.forward(X, training=True)
        activation1.forward(dense1.output, training=True)
        dropout1.forward(activation1.output, training=True)
        dense2.forward(dropout1.output, training=True)
        data_loss = loss_activation.forward(dense2.output, y)

        regularization_loss = loss_activation.loss.regularization_loss(
            dense1
        ) + loss_activation.loss.regularization_loss(dense2)

        loss = data_loss + regularization_loss

        predictions = np.argmax(loss_activation.output, axis=1)
        if len(y.shape) == 2:
            y = np.argmax(y, axis=1)
        accuracy = np.mean(predictions == y)

        history.append(_record(accuracy, loss, data_loss, regularization_loss, optimizer))
        if not epoch % 100:
            log.append(
                _epoch_line(epoch, accuracy, loss, data_loss, regularization_loss, optimizer)
            )

        loss_activation.backward(loss_activation.output, y)
        dense2.backward(loss_activation.dinputs)
        dropout1.backward(dense2.dinputs)
        activation1.backward(dropout1.dinputs)
        dense1.backward(activation1.dinputs)

        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()

    validation = None
    if test_data is not None:
        X_test, y_test = _test_data(test_data)
        # As the book: no dropout layer in the validation pass.
        dense1.forward(X_test, training=True)
        activation1.forward(dense1.output, training=True)
        dense2.forward(activation1.output, training=True)
        loss = loss_activation.forward(dense2.output, y_test)

        predictions = np.argmax(loss_activation.output, axis=1)
        if len(y_test.shape) == 2:
            y_test = np.argmax(y_test, axis=1)
        accuracy = np.mean(predictions == y_test)

        log.append(f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}")
        validation = {"acc": float(accuracy), "loss": float(loss)}

    return ChapterRun(log, history, (dense1, dense2), validation)


def run_ch16(X, y, rng, epochs=10001, test_data=None) -> ChapterRun:
    """Ch16_Final.py: binary logistic regression on two spiral classes.

    The book: X, y = spiral_data(samples=100, classes=2), 10001 epochs; y (and y_test) are
    reshaped to (-1, 1) here as the book does, so the raw labels may be passed. `rng` draws the
    weights. `test_data` is (X_test, y_test) or a callable returning them, called after
    training, where the book draws spiral_data(samples=100, classes=2) from the same stream.
    """
    y = y.reshape(-1, 1)

    dense1 = Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4, rng=rng)
    activation1 = Activation_ReLU()
    dense2 = Layer_Dense(64, 1, rng=rng)
    activation2 = Activation_Sigmoid()
    loss_function = Ch16_Loss_BinaryCrossentropy()
    optimizer = Optimizer_Adam(decay=5e-7)

    log, history = [], []
    for epoch in range(epochs):
        dense1.forward(X, training=True)
        activation1.forward(dense1.output, training=True)
        dense2.forward(activation1.output, training=True)
        activation2.forward(dense2.output, training=True)

        data_loss = loss_function.calculate(activation2.output, y)
        regularization_loss = loss_function.regularization_loss(
            dense1
        ) + loss_function.regularization_loss(dense2)

        loss = data_loss + regularization_loss

        predictions = (activation2.output > 0.5) * 1
        accuracy = np.mean(predictions == y)

        history.append(_record(accuracy, loss, data_loss, regularization_loss, optimizer))
        if not epoch % 100:
            log.append(
                _epoch_line(epoch, accuracy, loss, data_loss, regularization_loss, optimizer)
            )

        loss_function.backward(activation2.output, y)
        activation2.backward(loss_function.dinputs)
        dense2.backward(activation2.dinputs)
        activation1.backward(dense2.dinputs)
        dense1.backward(activation1.dinputs)

        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()

    validation = None
    if test_data is not None:
        X_test, y_test = _test_data(test_data)
        y_test = y_test.reshape(-1, 1)

        dense1.forward(X_test, training=True)
        activation1.forward(dense1.output, training=True)
        dense2.forward(activation1.output, training=True)
        activation2.forward(dense2.output, training=True)

        loss = loss_function.calculate(activation2.output, y_test)

        predictions = (activation2.output > 0.5) * 1
        accuracy = np.mean(predictions == y_test)

        log.append(f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}")
        validation = {"acc": float(accuracy), "loss": float(loss)}

    return ChapterRun(log, history, (dense1, dense2), validation)


def run_ch17(X, y, rng, epochs=10001) -> ChapterRun:
    """Ch17_Final.py: regression of the sine (its Layer_Dense draws 0.1 * randn).

    The book: X, y = sine_data(), 10001 epochs. `rng` draws the weights. The chapter has no
    validation line (it plots the fit on sine_data() instead): `validation` is None.
    """
    dense1 = Ch17_Layer_Dense(1, 64, rng=rng)
    activation1 = Activation_ReLU()
    dense2 = Ch17_Layer_Dense(64, 64, rng=rng)
    activation2 = Activation_ReLU()
    dense3 = Ch17_Layer_Dense(64, 1, rng=rng)
    activation3 = Activation_Linear()
    loss_function = Ch17_Loss_MeanSquaredError()
    optimizer = Optimizer_Adam(learning_rate=0.005, decay=1e-3)

    accuracy_precision = np.std(y) / 250

    log, history = [], []
    for epoch in range(epochs):
        dense1.forward(X, training=True)
        activation1.forward(dense1.output, training=True)
        dense2.forward(activation1.output, training=True)
        activation2.forward(dense2.output, training=True)
        dense3.forward(activation2.output, training=True)
        activation3.forward(dense3.output, training=True)

        data_loss = loss_function.calculate(activation3.output, y)

        regularization_loss = (
            loss_function.regularization_loss(dense1)
            + loss_function.regularization_loss(dense2)
            + loss_function.regularization_loss(dense3)
        )

        loss = data_loss + regularization_loss

        predictions = activation3.output
        accuracy = np.mean(np.absolute(predictions - y) < accuracy_precision)

        history.append(_record(accuracy, loss, data_loss, regularization_loss, optimizer))
        if not epoch % 100:
            log.append(
                _epoch_line(epoch, accuracy, loss, data_loss, regularization_loss, optimizer)
            )

        loss_function.backward(activation3.output, y)
        activation3.backward(loss_function.dinputs)
        dense3.backward(activation3.dinputs)
        activation2.backward(dense3.dinputs)
        dense2.backward(activation2.dinputs)
        activation1.backward(dense2.dinputs)
        dense1.backward(activation1.dinputs)

        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.update_params(dense3)
        optimizer.post_update_params()

    return ChapterRun(log, history, (dense1, dense2, dense3), None)
