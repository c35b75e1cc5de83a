"""Module: parameters found by attribute, train/eval mode, and state dicts saved as .npz."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
import warnings
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import numpy as np

from tinygrad_nnfs._checks import check_int
from tinygrad_nnfs.engine import mark_changed
from tinygrad_nnfs.tensor import Tensor, _as_array

if os.name == "posix":
    import fcntl  # advisory locks tell a live save's temporary file from a killed save's

__all__ = ["Module", "Sequential"]

# Attribute types that cannot hold a Module: the module walk skips them without isinstance.
_NEVER_MODULES = frozenset((Tensor, np.ndarray, float, int, bool, str, type(None)))
# What np.load raises on a truncated or corrupt archive (zlib.error: compressed members).
_CORRUPT_FILE_ERRORS = (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, zlib.error)


class Module:
    """Base of layers, activations, losses and models: subclass it and define `forward`.

    Parameters are found by attribute: every leaf Tensor that requires grad and every
    sub-Module stored on the module (also inside lists and tuples, named by index), in the
    order the attributes were first assigned. Calling `super().__init__()` is optional.

    Assigning a parameter or sub-Module also names its parameters after their attribute
    path (`.name` "dense1.weights"), so rendered graphs read like state_dict(). A tensor
    the user named keeps its name; a module attached to its parent before it gained its
    own sub-Modules leaves those with paths relative to the module.
    """

    training: bool = True  # a class default, so subclasses need not call super().__init__()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses override it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        for path, member in _attribute_members(name, value):
            if isinstance(member, Module):
                for inner, param in _walk_parameters(member, "", {id(member)}):
                    _name_parameter(param, f"{path}.{inner}")
            else:
                _name_parameter(member, path)

    # ---- discovery ----------------------------------------------------------------------------
    def _members(self) -> Iterator[tuple[str, Module | Tensor]]:
        """Direct sub-Modules and parameters with their names, in attribute order."""
        for name, value in vars(self).items():
            yield from _attribute_members(name, value)

    def children(self) -> Iterator[Module]:
        """The direct sub-Modules, in attribute order."""
        for _, member in self._members():
            if isinstance(member, Module):
                yield member

    def modules(self) -> list[Module]:
        """This module, then every sub-Module depth-first; each once, even if shared."""
        # Iterative, generator-free and in one function: regularization_loss walks the tree
        # every step.
        found: list[Module] = []
        seen: set[int] = set()
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            found.append(module)
            children = []  # the Modules its attributes hold (and its lists and tuples), in order
            for value in module.__dict__.values():
                if type(value) in _NEVER_MODULES:  # a layer's tensors and numbers: most of them
                    continue
                if isinstance(value, Module):
                    children.append(value)
                elif isinstance(value, (list, tuple)):  # a tuple: faster than a union
                    children.extend(item for item in value if isinstance(item, Module))
            if children:
                children.reverse()
                stack += children
        return found

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """("dense1.weights", tensor) pairs, recursively; a shared tensor appears once."""
        return _walk_parameters(self, "", {id(self)})

    def parameters(self) -> list[Tensor]:
        """Every parameter, in named_parameters() order (a list: safe to iterate twice)."""
        return [param for _, param in self.named_parameters()]

    def zero_grad(self) -> None:
        """Clear the gradient of every parameter."""
        for param in self.parameters():
            param.grad = None

    # ---- mode ---------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active) on this module and all sub-Modules; return self."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (Dropout is the identity) everywhere; return self."""
        return self.train(False)

    # ---- state ----------------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Parameter name -> a copy of its array, in named_parameters() order."""
        return OrderedDict((name, param.data.copy()) for name, param in self.named_parameters())

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy arrays into the parameters, keeping their dtypes; validate everything first.

        Keys must match named_parameters() exactly, shapes must match and dtype kinds
        must agree (float into float). On any problem a ValueError names the key and
        no parameter has changed.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping name -> array (from state_dict()), "
                f"got {type(state_dict).__name__}"
            )
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state_dict]
        unexpected = [name for name in state_dict if name not in params]
        if missing or unexpected:
            raise ValueError(
                f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}; "
                f"the state must come from a {type(self).__name__} of the same architecture"
            )
        checked = []
        for name, param in params.items():
            value = state_dict[name]
            array = _as_array(value)
            if array.dtype.kind not in "biuf":
                raise ValueError(
                    f"load_state_dict: key {name!r} holds {type(value).__name__} data (dtype "
                    f"{array.dtype}), not an array of numbers; pass the arrays of a state_dict()"
                )
            if array.shape != param.shape:
                raise ValueError(
                    f"load_state_dict: key {name!r} has shape {array.shape} but the parameter "
                    f"has shape {param.shape}"
                )
            if array.dtype.kind != param.dtype.kind:
                raise ValueError(
                    f"load_state_dict: key {name!r} has dtype {array.dtype} but the parameter "
                    f"is {param.dtype}; load arrays of the same kind (float)"
                )
            if not param.data.flags.writeable:
                raise ValueError(
                    f"load_state_dict: the array of parameter {name!r} is read-only; "
                    f"assign it a writable copy (param.data = param.data.copy())"
                )
            checked.append((name, param, array))
        # Cast before writing any: a cast that warns (an error under
        # warnings.simplefilter("error")) must leave no parameter half-loaded.
        updates = []
        for name, param, array in checked:
            what = f"load_state_dict: key {name!r}"
            updates.append((param, cast_for_load(what, array, param.dtype)))
        for param, array in updates:
            param.data[...] = array
            mark_changed(param)

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write state_dict() to an .npz file atomically; return the path written.

        Like numpy.savez, ".npz" is appended when the path lacks it. The archive is
        written to a temporary file in the same directory and moved into place, so an
        interrupted save never leaves a half-written file under `path` (and on POSIX the
        next save removes the temporary file a killed one left).
        """
        path = _npz_path(path, "save")
        write_npz(path, self.state_dict(), "save")
        return path

    def load(self, path: str | os.PathLike[str]) -> None:
        """Load parameters saved by save() (".npz" appended as save() does); no pickle.

        A missing file raises FileNotFoundError; a corrupt file or a mismatched state
        raises ValueError naming the file (and the key). Either way the model is unchanged.
        """
        path = _npz_path(path, "load")
        state = read_npz(path, "load", f"save the model first with model.save({path!r})")
        try:
            self.load_state_dict(state)
        except ValueError as error:
            raise ValueError(f"load: {path!r}: {error}") from None

    # ---- display ---------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown inside the parentheses of repr(); empty by default."""
        return ""

    def __repr__(self) -> str:
        children = [(name, m) for name, m in self._members() if isinstance(m, Module)]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join([*lines, ")"])


class _ParameterName(str):
    """A name given by a Module from an attribute path; a plain str is the user's and stays."""

    __slots__ = ()


def _name_parameter(param: Tensor, path: str) -> None:
    """Name an unnamed parameter `path`, or extend the path a sub-Module gave it."""
    name = param.name
    if name is None or (isinstance(name, _ParameterName) and path.endswith(f".{name}")):
        param.name = _ParameterName(path)


def _attribute_members(name: str, value: Any) -> Iterator[tuple[str, Module | Tensor]]:
    """The sub-Modules and parameters held by attribute `name` (a list or tuple by index)."""
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if _is_member(item):
                yield f"{name}.{index}", item
    elif _is_member(value):
        yield name, value


def _is_member(value: Any) -> bool:
    """A sub-Module, or a parameter: a leaf Tensor that requires grad (not a cached output)."""
    if isinstance(value, Module):
        return True
    return isinstance(value, Tensor) and value.requires_grad and value.is_leaf


def _walk_parameters(module: Module, prefix: str, seen: set[int]) -> Iterator[tuple[str, Tensor]]:
    for name, member in module._members():
        if id(member) in seen:
            continue
        seen.add(id(member))
        if isinstance(member, Module):
            yield from _walk_parameters(member, f"{prefix}{name}.", seen)
        else:
            yield prefix + name, member


def write_npz(path: str, arrays: Mapping[str, Any], where: str) -> None:
    """Write `arrays` to an .npz file at exactly `path`, atomically (no pickle).

    The archive goes to a temporary file `.<name>.<uuid>.tmp` in the same directory, moved
    into place once complete, so an interrupted write never leaves a half-written file
    under `path`. A save killed outright (kill -9, out of memory) leaves its temporary
    file behind, so on POSIX each save holds an advisory lock (flock) on its own until it
    is moved into place, and first removes every temporary file of `path` that no process
    holds: a dead save's, at once, whatever its age, while a concurrent save of the same
    path (another process, or a thread) keeps its own. Windows has no flock; there nothing
    is removed.
    """
    directory, filename = os.path.split(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"{where}: no such directory {directory!r} for {path!r}; create it first "
            f"(os.makedirs({directory!r}))"
        )
    _remove_orphans(directory, filename)
    temporary, file = _create_temporary(path, directory, filename, where)
    try:
        with file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
            if os.name == "posix":  # moved while still locked: no cleanup takes it for an orphan
                os.replace(temporary, path)
        if os.name != "posix":  # Windows cannot move an open file
            os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def _remove_orphans(directory: str, filename: str) -> None:
    """Remove the temporary files of `filename` that no save holds locked (POSIX only)."""
    if os.name != "posix":
        return
    try:
        names = os.listdir(directory)
    except OSError:  # a directory we may write but not list: nothing to clean up
        return
    # Exactly the names _create_temporary gives: not those of a file named "model.npz.old".
    pattern = re.compile(rf"\.{re.escape(filename)}\.[0-9a-f]{{32}}\.tmp")
    for name in names:
        if pattern.fullmatch(name):
            candidate = os.path.join(directory, name)
            # OSError: a live save holds the lock, the file is gone, or it is not ours to remove.
            with contextlib.suppress(OSError), open(candidate, "rb") as orphan:
                fcntl.flock(orphan, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.remove(candidate)


def _create_temporary(path: str, directory: str, filename: str, where: str) -> tuple[str, BinaryIO]:
    """The name of a new temporary file for `path`, and the file: open to write, locked (POSIX)."""
    while True:
        temporary = os.path.join(directory, f".{filename}.{uuid.uuid4().hex}.tmp")
        try:
            file = open(temporary, "xb")  # noqa: SIM115 - write_npz closes it
        except PermissionError:
            raise PermissionError(
                f"{where}: cannot write {path!r}: the directory {directory!r} is not "
                f"writable (the file is written there under a temporary name, then renamed); "
                f"make it writable (chmod u+w {directory!r}) or save to another directory"
            ) from None
        if os.name != "posix":
            return temporary, file
        # A file system without locks (some network mounts) refuses flock; no cleanup can
        # lock it either, so none takes this file for an orphan.
        with contextlib.suppress(OSError):
            fcntl.flock(file, fcntl.LOCK_EX)
        # Another save's cleanup may have removed it between its creation and our lock.
        if os.path.exists(temporary):
            return temporary, file
        file.close()


def cast_for_load(what: str, array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """`array` in `dtype`; warns, naming `what`, when finite values overflow to inf."""
    if array.dtype == dtype:
        return array
    with np.errstate(over="ignore"):  # NumPy's own warning would not name the key
        out = array.astype(dtype)
    if np.any(np.isinf(out) & np.isfinite(array)):
        warnings.warn(
            f"{what} holds values beyond the range of {dtype} (largest "
            f"{float(np.finfo(dtype).max):g}), which load as inf; load it into {array.dtype} "
            f"parameters, or rescale it",
            RuntimeWarning,
            stacklevel=3,
        )
    return out


def read_npz(path: str, where: str, fix: str) -> dict[str, np.ndarray]:
    """Every array of the .npz archive at `path`, read eagerly, without pickle.

    A missing file is a FileNotFoundError that ends with `fix`; an unreadable one (or a
    single .npy array) a ValueError naming `path`.
    """
    try:
        with open(path, "rb") as file:
            archive = np.load(file, allow_pickle=False)
            if isinstance(archive, np.lib.npyio.NpzFile):
                with archive:
                    return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"{where}: no such file {path!r}; {fix}") from None
    except _CORRUPT_FILE_ERRORS as error:
        raise ValueError(
            f"{where}: {path!r} is not a readable .npz archive (truncated or corrupt?): "
            f"{type(error).__name__}: {error}"
        ) from None
    raise ValueError(f"{where}: {path!r} holds a single array, not an archive written by save()")


def _npz_path(path: str | os.PathLike[str], where: str) -> str:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"{where}: path must be a str or os.PathLike such as 'model.npz', "
            f"got {type(path).__name__} {path!r}"
        )
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


class Sequential(Module):
    """Modules applied in order; the i-th is named "i" ("0.weights"), indexable, len()-able."""

    def __init__(self, *modules: Module) -> None:
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: argument {index} is a {type(module).__name__}, not a Module; "
                    f"wrap functions in a Module subclass"
                )
            setattr(self, str(index), module)
        self._names = tuple(str(index) for index in range(len(modules)))  # the attributes

    def forward(self, inputs: Any) -> Any:
        """Feed inputs through every module in turn."""
        members = self.__dict__
        for name in self._names:
            inputs = members[name](inputs)
        return inputs

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[Module]:
        return (getattr(self, name) for name in self._names)

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(*list(self)[index])
        check_int(index, "Sequential", "index", expected="an int or a slice")
        length = len(self._names)
        if not -length <= index < length:
            raise IndexError(f"Sequential: index {index} out of range for {length} modules")
        return getattr(self, self._names[index])
