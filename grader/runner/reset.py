"""Undo what a learner's code changed inside the worker's own process.

The probes record facts in the worker, right after the learner's function
returned. So that a monkeypatch cannot make that recording lie, ``Snapshot``
remembers, before any learner code runs, the state that the recording relies on,
and ``restore`` puts it back:

- the attributes of ``builtins``, ``sys``, torch, numpy, math and the grader's own
  modules, and of the classes defined in them (``torch.Tensor``, ``Recorder``...):
  replaced, added or deleted attributes, and swapped ``__code__`` of functions;
- active torch function modes and dispatch modes (``__torch_function__`` modes,
  ``set_default_device``), and the default dtype;
- trace, profile and monitoring hooks, gc callbacks, the recursion limit, signal
  handlers and interval timers.

``settle`` runs after each call: it waits briefly for threads the learner started,
then restores. It cannot undo raw writes to memory (``ctypes``); README's SECURITY
section lists what in-process recording can and cannot guarantee.
"""

from __future__ import annotations

import ctypes
import gc
import operator
import signal
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import torch

_MISSING = object()
_type_dict = type.__dict__["__dict__"].__get__  # a class's mappingproxy, metaclass-proof
_type_bases = type.__dict__["__bases__"].__get__
_type_setattr = type.__setattr__
_type_delattr = type.__delattr__
_object_setattr = object.__setattr__
_FunctionType = types.FunctionType
_len_function_modes = torch._C._len_torch_function_stack
_pop_function_mode = torch._C._pop_torch_function_stack
_len_dispatch_modes = torch._C._len_torch_dispatch_stack
_pop_dispatch_mode = torch._C._pop_torch_dispatch_stack
_get_default_dtype = torch.get_default_dtype
_set_default_dtype = torch.set_default_dtype
_current_frames = sys._current_frames
_settrace = sys.settrace
_setprofile = sys.setprofile
_getrecursionlimit = sys.getrecursionlimit
_setrecursionlimit = sys.setrecursionlimit
_signal = signal.signal
_getsignal = signal.getsignal
_setitimer = signal.setitimer
_sleep = time.sleep
_monotonic = time.monotonic
# The quick checks below run in C over whole lists (an unchanged world is the common
# case): map, all, list and the operator functions are captured now, like the rest.
_map, _all, _list, _type = map, all, list, type
_is = operator.is_
_referents = gc.get_referents
_value_of = operator.attrgetter("value")

# Modules whose attributes the probes and the worker rely on after the call.
GUARDED = (
    "builtins",
    "sys",
    "os",
    "gc",
    "math",
    "operator",
    "functools",
    "numbers",
    "json",
    "struct",
    "numpy",
    "torch",
    "torch._tensor",
    "torch.functional",
    "torch.autograd",
    "torch.autograd.grad_mode",
    "torch.autograd.function",
    "torch.overrides",
    "torch.testing",
    "torch.utils._python_dispatch",
    "safetensors",
    "safetensors.torch",
)
_TIMERS = (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF)


class ThreadsLeft(BaseException):
    """The learner's code returned while threads it started were still running."""


class Snapshot:
    """The worker's trusted state, taken before any learner code runs."""

    def __init__(self) -> None:
        # module, its type, its namespace, the saved namespace, the namespace's version
        self._modules: list[tuple[types.ModuleType, type, dict, dict[str, Any], int]] = []
        # class, saved members, saved bases, the class's own dict, that dict's version
        self._classes: list[tuple[type, dict[str, Any], tuple[type, ...], dict, int]] = []
        self._code: list[tuple[types.FunctionType, types.CodeType, Any, Any]] = []
        self._sys_modules: dict[str, types.ModuleType] = {}
        # read through the instance, not a module global a learner could rebind
        self._version = _version_reader() or _no_version
        names = [n for n in GUARDED if n in sys.modules]
        names += [n for n in sys.modules if n == "grader" or n.startswith("grader.")]
        for name in names:
            module = sys.modules[name]
            if not isinstance(module, types.ModuleType):
                continue
            self._sys_modules[name] = module
            namespace = vars(module)
            self._modules.append(
                (module, type(module), namespace, dict(namespace), self._version(namespace))
            )
            for value in list(namespace.values()):
                if isinstance(value, type) and getattr(value, "__module__", None) == name:
                    self._take_class(value)
                elif isinstance(value, _FunctionType):
                    self._take_function(value)
        self._dtype = _get_default_dtype()
        self._recursion = _getrecursionlimit()
        self._switch = sys.getswitchinterval()
        self._gc_callbacks = list(gc.callbacks)
        self._gc_threshold = gc.get_threshold()
        self._signals = {}
        for sig in signal.valid_signals():
            try:
                self._signals[sig] = _getsignal(sig)
            except (OSError, ValueError):
                continue
        self._threads = len(_current_frames())
        self._index()

    def _index(self) -> None:
        """Parallel lists for the quick checks of ``restore``."""
        self._sig_keys = list(self._signals)
        self._sig_handlers = [self._signals[k] for k in self._sig_keys]
        self._sys_names = list(self._sys_modules)
        self._sys_values = [self._sys_modules[k] for k in self._sys_names]
        self._module_objects = [m for m, *_ in self._modules]
        self._module_kinds = [kind for _, kind, *_ in self._modules]
        self._class_objects = [c for c, *_ in self._classes]
        self._class_bases = [b for _, _, b, *_ in self._classes]
        self._fns = [fn for fn, *_ in self._code]
        # What the functions hold (code, defaults, kwdefaults, globals...), read in one
        # C call: reading __code__ one function at a time raises an audit event each.
        self._fn_parts = _referents(*self._fns)
        # True once block_audit_hooks(self) refuses changes to these functions
        self.functions_guarded = False
        views = (
            _version_views(
                [ns for _, _, ns, *_ in self._modules] + [own for _, _, _, own, _ in self._classes]
            )
            if self._version is not _no_version
            else None
        )
        self._views = views
        self._versions = _list(_map(_value_of, views)) if views is not None else None

    def _untouched(self) -> bool:
        """Nothing the snapshot guards was changed since it was taken or last
        restored (versions of every namespace, bases, code, defaults, types)."""
        if self._views is None or _list(_map(_value_of, self._views)) != self._versions:
            return False
        return (
            _all(_map(_is, _map(_type_bases, self._class_objects), self._class_bases))
            and (self.functions_guarded or self._same_function_parts())
            and _all(_map(_is, _map(_type, self._module_objects), self._module_kinds))
        )

    def _same_function_parts(self) -> bool:
        now = _referents(*self._fns)
        return len(now) == len(self._fn_parts) and _all(_map(_is, now, self._fn_parts))

    def _take_class(self, cls: type) -> None:
        members = dict(_type_dict(cls))
        own = _own_dict(cls)
        self._classes.append((cls, members, cls.__bases__, own, self._version(own)))
        for value in members.values():
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            elif isinstance(value, property):
                for part in (value.fget, value.fset, value.fdel):
                    if isinstance(part, _FunctionType):
                        self._take_function(part)
                continue
            if isinstance(value, _FunctionType):
                self._take_function(value)

    def _take_function(self, fn: types.FunctionType) -> None:
        self._code.append((fn, fn.__code__, fn.__defaults__, fn.__kwdefaults__))

    def settle(self, grace: float = 0.5) -> None:
        """After a call: let the learner's threads end (raise ``ThreadsLeft`` if they
        do not within ``grace`` seconds), then restore everything."""
        _settrace(None)
        _setprofile(None)
        _stop_timers()
        deadline = _monotonic() + grace
        while len(_current_frames()) > self._threads:
            if _monotonic() > deadline:
                self.restore()
                raise ThreadsLeft()
            _sleep(0.005)
        self.restore()

    def restore(self) -> None:
        _settrace(None)
        _setprofile(None)
        _stop_monitoring()
        _stop_timers()
        if not _all(_map(_is, _map(_getsignal, self._sig_keys), self._sig_handlers)):
            for sig, handler in self._signals.items():
                try:
                    if _getsignal(sig) is not handler:
                        _signal(sig, handler)
                except (OSError, ValueError, TypeError):
                    continue
        while _len_function_modes() > 0:
            _pop_function_mode()
        while _len_dispatch_modes() > 0:
            _pop_dispatch_mode()
        modules = sys.modules
        if not _all(_map(_is, _map(modules.get, self._sys_names), self._sys_values)):
            for name, module in self._sys_modules.items():
                if modules.get(name) is not module:
                    modules[name] = module
        if not self._untouched():
            self._restore_namespaces()
        gc.callbacks[:] = self._gc_callbacks
        gc.set_threshold(*self._gc_threshold)
        if _getrecursionlimit() != self._recursion:
            _setrecursionlimit(self._recursion)
        sys.setswitchinterval(self._switch)
        if _get_default_dtype() is not self._dtype:
            _set_default_dtype(self._dtype)

    def _restore_namespaces(self) -> None:
        """The slow path: compare and put back entry by entry."""
        for i, (module, kind, namespace, saved, version) in enumerate(self._modules):
            if type(module) is not kind:
                _object_setattr(module, "__class__", kind)
            if self._version(namespace) == version != _UNKNOWN:
                continue  # untouched since it was saved or last restored
            for key, value in saved.items():
                if namespace.get(key, _MISSING) is not value:
                    namespace[key] = value
            self._modules[i] = (module, kind, namespace, saved, self._version(namespace))
        for i, (cls, members, bases, own, version) in enumerate(self._classes):
            if self._version(own) == version != _UNKNOWN:  # untouched: only the bases to check
                _restore_bases(cls, bases)
                continue
            _restore_class(cls, members, bases)
            self._classes[i] = (cls, members, bases, own, self._version(own))
        for fn, code, defaults, kwdefaults in self._code:
            if fn.__code__ is not code:
                fn.__code__ = code
            if fn.__defaults__ is not defaults:
                fn.__defaults__ = defaults
            if fn.__kwdefaults__ is not kwdefaults:
                fn.__kwdefaults__ = kwdefaults
        if self._views is not None:
            self._versions = _list(_map(_value_of, self._views))
        self._fn_parts = _referents(*self._fns)


def _restore_class(cls: type, members: dict[str, Any], bases: tuple[type, ...]) -> None:
    _restore_bases(cls, bases)
    current = _type_dict(cls)
    for key in [k for k in current if k not in members]:
        try:
            _type_delattr(cls, key)
        except (AttributeError, TypeError):
            continue
    for key, value in members.items():
        if current.get(key, _MISSING) is not value and key not in ("__dict__", "__weakref__"):
            try:
                _type_setattr(cls, key, value)
            except (AttributeError, TypeError):
                continue


def _restore_bases(cls: type, bases: tuple[type, ...]) -> None:
    now = _type_bases(cls)
    if len(now) != len(bases) or any(a is not b for a, b in zip(now, bases, strict=True)):
        try:
            _type_setattr(cls, "__bases__", bases)
        except TypeError:
            pass


def _own_dict(cls: type) -> dict:
    """The dict behind a class's ``__dict__`` mappingproxy."""
    for referent in gc.get_referents(_type_dict(cls)):
        if type(referent) is dict:
            return referent
    return {}


def _version_reader() -> Callable[[dict], int] | None:
    """CPython's per-dict version tag (``ma_version_tag``), which changes on every
    insertion, replacement or deletion: it lets ``restore`` skip the dicts nobody
    touched. Returns None where the tag is absent or does not behave (the full
    comparison then runs every time). Only raw memory writes, which the SECURITY
    section already names, could hide a change from it."""
    if sys.implementation.name != "cpython" or not (3, 10) <= sys.version_info[:2] <= (3, 13):
        return None
    # The tag follows ob_refcnt, ob_type and ma_used. Everything the reader uses is
    # captured now, so that a learner's later patches of ctypes or id change nothing.
    offset = object.__basicsize__ + ctypes.sizeof(ctypes.c_ssize_t)
    at, address = ctypes.c_uint64.from_address, id

    def read(d: dict) -> int:
        return at(address(d) + offset).value

    try:
        probe: dict[str, int] = {}
        seen = [read(probe)]
        probe["a"] = 1
        seen.append(read(probe))
        probe["a"] = 2
        seen.append(read(probe))
        _ = probe["a"], len(probe), list(probe.items())
        if read(probe) != seen[-1]:
            return None
        del probe["a"]
        seen.append(read(probe))
    except Exception:
        return None
    return read if len(set(seen)) == len(seen) else None


_UNKNOWN = -1


def _version_views(dicts: list[dict]) -> list[Any] | None:
    """For each dict, a ctypes view of its version tag, whose ``value`` reads it (the
    views are made once; reading them all is a C loop). The snapshot keeps the dicts
    alive, so the addresses stay valid."""
    offset = object.__basicsize__ + ctypes.sizeof(ctypes.c_ssize_t)
    at = ctypes.c_uint64.from_address
    try:
        return [at(id(d) + offset) for d in dicts]
    except Exception:
        return None


def _no_version(_d: dict) -> int:
    return _UNKNOWN


def _stop_timers() -> None:
    for timer in _TIMERS:
        try:
            _setitimer(timer, 0)
        except (OSError, ValueError):
            continue


def _stop_monitoring() -> None:
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12+
    if monitoring is None:
        return
    events = [v for v in vars(monitoring.events).values() if type(v) is int and v & (v - 1) == 0]
    for tool in range(6):
        try:
            if monitoring.get_tool(tool) is None:
                continue
            monitoring.set_events(tool, 0)
        except (ValueError, TypeError):
            continue
        for event in events:
            try:
                monitoring.register_callback(tool, event, None)
            except (ValueError, TypeError):
                continue
        monitoring.free_tool_id(tool)


def block_audit_hooks(world: Snapshot | None = None) -> None:
    """Install the worker's audit hook, before any learner code runs. It refuses

    - every later ``sys.addaudithook``: learner code cannot arrange to run inside
      the grader's own later steps (imports, opens) through an audit hook;
    - changes to the code, defaults or keyword defaults of the functions ``world``
      guards (CPython audits those assignments): learner code cannot swap the body
      of a function the probes rely on, so ``Snapshot.restore`` need not compare
      them after every call. The hook guards itself the same way, and it reads
      nothing from a module namespace a learner could rebind: everything it uses
      is in its own defaults, which it guards.
    """

    def refuse(event, args, guarded=None, names=None, function=None, kind=None):  # type: ignore[no-untyped-def]
        if event == "sys.addaudithook":
            raise RuntimeError("audit hooks are not allowed here")
        if (
            event == "object.__setattr__"
            and guarded is not None
            and kind(args[0]) is function
            and args[0] in guarded
            and args[1] in names
        ):
            raise RuntimeError("the grader's own functions cannot be changed")

    guarded = frozenset([*(world._fns if world is not None else ()), refuse])
    if world is not None:
        world.functions_guarded = True
    refuse.__defaults__ = (
        guarded,
        frozenset({"__code__", "__defaults__", "__kwdefaults__"}),
        _FunctionType,
        type,
    )
    sys.addaudithook(refuse)
