"""Named patches, one AWS behaviour each (LocalStack's way: localstack.utils.patch).

`@patch(owner, "method")` registers a replacement that receives the original
as its first argument. Nothing changes until `apply_all()`; each patch's
docstring states the AWS behaviour it reproduces and the API reference it
follows, and `kura emulator patches` (the launcher's --list) prints them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

_registered: list[tuple[Any, str, Callable[..., Any]]] = []
_applied: list[str] = []


def patch(owner: Any, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not fn.__doc__:
            raise AssertionError(f"patch {fn.__name__} must say which AWS behaviour it reproduces")
        _registered.append((owner, name, fn))
        return fn

    return register


def provide(owner: Any, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers an operation moto does not implement (the function is the method itself)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not fn.__doc__:
            raise AssertionError(f"{fn.__name__} must say which AWS behaviour it reproduces")
        if hasattr(owner, name):
            raise AssertionError(f"{owner.__name__}.{name} exists: use @patch")
        _registered.append((owner, name, fn))
        return fn

    return register


def apply_all() -> list[str]:
    for owner, name, fn in _registered:
        original = getattr(owner, name, None)
        if original is None:
            setattr(owner, name, fn)
        elif isinstance(original, property):
            setattr(owner, name, fn(original))
        else:

            def make(orig: Callable[..., Any], repl: Callable[..., Any]) -> Callable[..., Any]:
                @functools.wraps(orig)
                def wrapper(*args: Any, **kwargs: Any) -> Any:
                    return repl(orig, *args, **kwargs)

                return wrapper

            setattr(owner, name, make(original, fn))
        summary = " ".join(inspect.cleandoc(fn.__doc__ or "").split("\n\n")[0].split())
        _applied.append(f"{owner.__name__}.{name}: {summary}")
    _registered.clear()
    return list(_applied)


def arguments(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments by parameter name (moto calls its backends both ways)."""
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)
