"""Optimizer: the base of every optimizer, with the book's learning-rate decay."""

from __future__ import annotations

import itertools
import numbers
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from operator import is_not
from typing import Any

import numpy as np

from tinygrad_nnfs._checks import check_number, is_int
from tinygrad_nnfs.engine import grad_array, mark_changed, settings
from tinygrad_nnfs.nn.module import cast_for_load
from tinygrad_nnfs.tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer(ABC):
    """Holds the parameters, the decayed learning rate and the per-parameter state arrays.

    `params` may be left out (None) when the optimizer is handed to `Model.set`, whose
    `finalize()` gives it the model's parameters, as the book's optimizers are made.

    Subclasses pass their hyper-parameters to `__init__` by keyword (validated, saved in
    `state_dict()`), name their per-parameter arrays in `_STATE` and implement
    `_increment(learning_rate, grad, state)`, the update rule on arrays.

    For speed, the gradients and state arrays of all parameters of one dtype live in flat
    buffers, so a step computes the rule once for all of them and adds each parameter's
    part to its `.data` in place. Elementwise, this gives the same bits as a step per
    parameter. A step where some parameter has no gradient goes parameter by parameter.
    """

    learning_rate: float
    decay: float
    # Hyper-parameters in [0, 1) rather than merely non-negative.
    _FRACTIONS = frozenset({"momentum", "rho", "beta_1", "beta_2"})
    _STATE: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor] | None, **hyperparameters: float) -> None:
        params = [] if params is None else _check_params(type(self).__name__, params)
        hyperparameters = self._checked_hyperparameters(hyperparameters)
        self._hyperparameter_names = tuple(hyperparameters)
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self.current_learning_rate = self.learning_rate
        self.iterations = 0
        self._set_params(params)

    def _set_params(self, params: list[Tensor]) -> None:
        """Optimise `params` (checked), with zeroed state: how Model.finalize() hands them over."""
        self.params = params
        self._groups = _group_by_dtype(params)
        located = {
            id(param): (group, position)
            for group in self._groups
            for position, param in enumerate(group.params)
        }
        # By index, not by id(): a deepcopy or pickle of the optimizer gives new ids.
        self._located = [located[id(param)] for param in params]
        hyperparameters = {name: getattr(self, name) for name in self._hyperparameter_names}
        self._allocate_state(self._state_names(hyperparameters))

    def __repr__(self) -> str:
        options = ", ".join(f"{name}={getattr(self, name)}" for name in self._hyperparameter_names)
        return f"{type(self).__name__}({len(self.params)} params, {options})"

    def step(self) -> None:
        """Decay the learning rate, update every parameter that has a gradient, count the step."""
        # The book's expression, float for float (with decay 0 it equals learning_rate).
        if not self.params:
            raise RuntimeError(
                f"{type(self).__name__}.step: the optimizer has no parameters; pass "
                f"model.parameters() when making it, or hand it to Model.set() and finalize()"
            )
        self.current_learning_rate = self.learning_rate * (
            1.0 / (1.0 + self.decay * self.iterations)
        )
        for group in self._groups:
            group.update(self._increment, self.current_learning_rate)
        self.iterations += 1

    def zero_grad(self) -> None:
        """Clear the gradient of every parameter."""
        for param in self.params:
            param._grad = None

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters, step count, current rate and copies of the state arrays.

        Flat: scalars under their names and arrays under `<state>.<param index>`
        (e.g. `cache.0`), so `numpy.savez(path, **optimizer.state_dict())` stores it.
        """
        state: dict[str, Any] = {name: getattr(self, name) for name in self._hyperparameter_names}
        state["iterations"] = self.iterations
        state["current_learning_rate"] = self.current_learning_rate
        for index in range(len(self.params)):
            for name, array in self._param_state(index).items():
                state[f"{name}.{index}"] = array.copy()
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a `state_dict()` or its `np.load`; all is validated before anything changes."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{where}: expected a mapping such as state_dict() or np.load(path), "
                f"got {type(state_dict).__name__}"
            )
        # Each key read once: an NpzFile reads (and decompresses) an array on every lookup.
        state_dict = dict(state_dict)
        scalars = (*self._hyperparameter_names, "iterations", "current_learning_rate")
        _check_keys(self, where, state_dict, set(scalars), extra_allowed=True)
        hyperparameters = self._checked_hyperparameters(
            {name: _scalar(where, name, state_dict[name]) for name in self._hyperparameter_names},
            where,
        )
        # Which arrays are expected depends on the saved hyper-parameters (SGD's momentum).
        names = self._state_names(hyperparameters)
        expected = {
            *scalars,
            *(f"{name}.{index}" for name in names for index in range(len(self.params))),
        }
        _check_keys(self, where, state_dict, expected, extra_allowed=False)
        iterations = _scalar(where, "iterations", state_dict["iterations"])
        if not is_int(iterations) or iterations < 0:
            raise ValueError(f"{where}: iterations must be an int >= 0, got {iterations!r}")
        current_learning_rate = _scalar(
            where, "current_learning_rate", state_dict["current_learning_rate"]
        )
        _check_number(where, "current_learning_rate", current_learning_rate, fraction=False)
        slots = [(name, index, param) for name in names for index, param in enumerate(self.params)]
        for name, index, param in slots:
            _check_state_array(where, f"{name}.{index}", state_dict[f"{name}.{index}"], param)
        # Cast only once all is checked, before changing anything: a cast that warns (an
        # error under warnings.simplefilter("error")) must leave nothing half-loaded.
        state = []
        for name, index, param in slots:
            key = f"{name}.{index}"
            array = cast_for_load(f"{where}: {key}", state_dict[key], param.dtype)
            state.append((name, index, array))
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self.iterations = int(iterations)
        self.current_learning_rate = float(current_learning_rate)
        self._allocate_state(names)
        for name, index, array in state:
            self._param_state(index)[name][...] = array

    def _allocate_state(self, names: tuple[str, ...]) -> None:
        """Zeroed state arrays, flat per dtype group."""
        for group in self._groups:
            group.allocate(names)

    def _param_state(self, index: int) -> dict[str, np.ndarray]:
        """Parameter `index`'s state arrays, by name."""
        group, position = self._located[index]
        return group.param_state(position)

    # ---- for subclasses ----------------------------------------------------------------------
    @abstractmethod
    def _increment(
        self, learning_rate: float, grad: np.ndarray, state: dict[str, np.ndarray]
    ) -> np.ndarray:
        """What the rule adds to the weights, from `grad` and the `state` arrays (updated)."""

    def _state_names(self, hyperparameters: dict[str, float]) -> tuple[str, ...]:
        """Names of the per-parameter arrays the rule keeps under these hyper-parameters."""
        return self._STATE

    def _checked_hyperparameters(
        self, hyperparameters: dict[str, Any], where: str | None = None
    ) -> dict[str, float]:
        """The hyper-parameters as Python floats (so float32 parameters stay float32)."""
        where = where or type(self).__name__
        return {
            name: _check_number(where, name, value, fraction=name in self._FRACTIONS)
            for name, value in hyperparameters.items()
        }


class _FlatGroup:
    """Parameters of one dtype, with their gradients and state arrays in flat buffers.

    Parameters whose arrays nothing else references (a layer's own weights and biases, as
    the layer made them: plain, writable ndarrays that own their memory) are moved into a
    flat buffer of the group: their `.data` become views of it, with the same values, and a
    step adds the update to all of them in one call. Any other array (a variable of the
    user's, a view, a memmap, a read-only array, one a recorded forward pass holds) stays
    where it is, and a step adds each parameter's part to it in place.

    A gradient wider than its parameter (float64 for float32, which the book's NumPy gives
    after nnfs_init(), e.g. a bias behind a float64 dropout mask) makes that parameter's
    state wider from then on, as the book's `momentums = b1 * momentums + (1 - b1) * g` does.
    """

    def __init__(self, params: list[Tensor]) -> None:
        self.params = params
        stops = np.cumsum([param.data.size for param in params]).tolist()
        self.slices = [slice(a, b) for a, b in itertools.pairwise([0, *stops])]
        self.grads = np.empty(stops[-1], dtype=params[0].dtype)
        self.state: dict[str, np.ndarray] = {}
        self.widened: dict[int, dict[str, np.ndarray]] = {}  # index -> its own wider state
        if all(_movable(param) for param in params):
            values = np.concatenate([param._data.reshape(-1) for param in params])
            for index, param in enumerate(params):
                param._data = self.view(values, index)
            self.targets: list[tuple[np.ndarray, slice]] | None = [(values, slice(None))]
        else:
            self.targets = self._flat_params()
        self.data = [param._data for param in params]  # the arrays `targets` reach

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A copy (deepcopy, pickle) copies each array on its own: the copied parameters' arrays
        # are no views of the copied buffer, nor the copied views theirs. Find them again.
        self.__dict__.update(state)
        self.data = [None] * len(self.params)

    def allocate(self, names: tuple[str, ...]) -> None:
        """Zeroed flat state arrays named `names` (no parameter's state is wider)."""
        self.state = {name: np.zeros_like(self.grads) for name in names}
        self.widened = {}

    def view(self, flat: np.ndarray, index: int) -> np.ndarray:
        """The part of a flat array that belongs to parameter `index`, in its shape."""
        return flat[self.slices[index]].reshape(self.params[index].shape)

    def _flat_params(self) -> list[tuple[np.ndarray, slice]] | None:
        """Each parameter's array viewed flat, with its part of the flat buffers (None if an
        array is not contiguous)."""
        if not all(param._data.flags.c_contiguous for param in self.params):
            return None
        parts = zip(self.params, self.slices, strict=True)
        return [(param._data.reshape(-1), part) for param, part in parts]

    def _add_targets(self) -> list[tuple[np.ndarray, slice]] | None:
        """Where a step adds its increment (see _FlatGroup), made again for the parameters'
        arrays once a parameter's `.data` was replaced."""
        arrays = [param._data for param in self.params]
        if any(map(is_not, arrays, self.data)):  # (map: no generator frame per parameter)
            self.targets = self._flat_params()
            self.data = arrays
        return self.targets

    def param_state(self, index: int) -> dict[str, np.ndarray]:
        """Parameter `index`'s state arrays: views of the flat ones, or its wider own."""
        if index in self.widened:
            return self.widened[index]
        return {name: self.view(flat, index) for name, flat in self.state.items()}

    def update(self, rule: Any, learning_rate: float) -> None:
        """Apply `rule` to every parameter that has a gradient: in one pass when all can."""
        grads = [param._grad for param in self.params]
        kinds = set(map(type, grads))
        if Tensor in kinds:  # gradients of backward(create_graph=True): their arrays
            grads = [grad_array(param) for param in self.params]
            kinds = set(map(type, grads))
        dtype = self.grads.dtype
        # Gradients of another dtype than their parameter's arise only after nnfs_init().
        if (
            not self.widened
            and kinds == _ARRAYS  # a gradient for every parameter
            and (not settings.nnfs_dtypes or all(grad.dtype == dtype for grad in grads))
            and (targets := self._add_targets()) is not None
        ):
            np.concatenate(grads, axis=None, out=self.grads)  # axis=None: each one flattened
            increment = rule(learning_rate, self.grads, self.state)
            for target, part in targets:
                target += increment[part]
            mark_changed(*self.params)
            return
        for index, param in enumerate(self.params):
            grad = grad_array(param)
            if grad is None:
                continue
            if grad.dtype.kind != "f":  # integers or bools set by hand: as the one pass casts
                grad = grad.astype(dtype)
            wider = np.result_type(grad, dtype)
            if index not in self.widened and wider != dtype:
                state = self.param_state(index)
                self.widened[index] = {name: a.astype(wider) for name, a in state.items()}
            param.data += rule(learning_rate, grad, self.param_state(index))


_ARRAYS = frozenset((np.ndarray,))


def _references_of_a_lone_array() -> int:
    """What sys.getrefcount reports for an array that one tensor alone references (the count
    includes the call's own argument on some CPython versions and not on others)."""
    lone = Tensor(np.zeros(1))
    return sys.getrefcount(lone._data)


_LONE = _references_of_a_lone_array()


def _movable(param: Tensor) -> bool:
    """True if nothing but `param` can see its array: moving it into a buffer is invisible."""
    data = param._data
    flags = data.flags
    if type(data) is not np.ndarray or not (flags.owndata and flags.writeable):
        return False
    del data, flags
    return sys.getrefcount(param._data) <= _LONE


def _group_by_dtype(params: list[Tensor]) -> list[_FlatGroup]:
    """One flat group per parameter dtype, in the parameters' order."""
    groups: dict[np.dtype, list[Tensor]] = {}
    for param in params:
        groups.setdefault(param.dtype, []).append(param)
    return [_FlatGroup(members) for members in groups.values()]


def _check_params(where: str, params: Any) -> list[Tensor]:
    """The parameters as a list: Tensors that require grad, each once, at least one."""
    # A Tensor is iterable (over its rows), which would silently optimise the wrong tensors.
    if isinstance(params, numbers.Number):
        raise TypeError(
            f"{where}: the first argument is params (model.parameters(), or leave it out for "
            f"Model.set), got the number {params!r}; pass it by name, e.g. learning_rate={params!r}"
        )
    if isinstance(params, Tensor | str | dict) or not isinstance(params, Iterable):
        raise TypeError(
            f"{where}: params must be an iterable of Tensors such as model.parameters(), "
            f"got {type(params).__name__}; wrap a single tensor in a list: [tensor]"
        )
    params = list(params)
    if not params:
        raise ValueError(f"{where}: params is empty; pass the tensors to optimise")
    seen: set[int] = set()
    for index, param in enumerate(params):
        if not isinstance(param, Tensor):
            raise TypeError(
                f"{where}: params[{index}] is a {type(param).__name__}, not a Tensor; "
                f"pass model.parameters() (not named_parameters() or a state_dict)"
            )
        if not param.requires_grad:
            raise ValueError(
                f"{where}: params[{index}] (shape {param.shape}) does not require grad; "
                f"create it with requires_grad=True"
            )
        if not param.is_leaf:
            raise ValueError(
                f"{where}: params[{index}] (shape {param.shape}) is the result of an op, not a "
                f"leaf tensor; optimise the leaves it was computed from"
            )
        if id(param) in seen:
            raise ValueError(
                f"{where}: params[{index}] (shape {param.shape}) appears more than once; "
                f"pass each parameter once"
            )
        seen.add(id(param))
    return params


def _check_number(where: str, name: str, value: Any, *, fraction: bool) -> float:
    """A finite real hyper-parameter, >= 0, and < 1 if it is a `fraction`, as a Python float."""
    return check_number(
        value, where, name, expected="a real number", finite=True, minimum=0, below_one=fraction
    )


def _check_keys(
    optimizer: Optimizer,
    where: str,
    state_dict: dict[str, Any],
    expected: set[str],
    *,
    extra_allowed: bool,
) -> None:
    """Raise naming every missing key (and every unexpected one, unless `extra_allowed`)."""
    missing = sorted(expected - state_dict.keys())
    unexpected = [] if extra_allowed else sorted(map(str, state_dict.keys() - expected))
    if missing or unexpected:
        problems = [f"missing keys {missing}"] if missing else []
        problems += [f"unexpected keys {unexpected}"] if unexpected else []
        raise ValueError(
            f"{where}: {', '.join(problems)}; pass the state_dict() of a "
            f"{type(optimizer).__name__} over the same {len(optimizer.params)} parameters"
        )


def _scalar(where: str, key: str, value: Any) -> Any:
    """A state-dict scalar, unwrapping the 0-d arrays that numpy.load gives back."""
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise ValueError(f"{where}: {key} must be a scalar, got shape {value.shape}")
        return value.item()
    return value


def _check_state_array(where: str, key: str, value: Any, param: Tensor) -> None:
    """Raise unless a saved state array is a float ndarray of `param`'s shape."""
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"{where}: {key} must be a float ndarray, got {kind}")
    if value.shape != param.shape:
        raise ValueError(
            f"{where}: {key} has shape {value.shape} but its parameter has shape {param.shape}"
        )
