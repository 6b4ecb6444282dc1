"""The `./inv` tasks, as invoke collections by capability; the root tasks.py composes them.

A task is a typed, documented function whose body calls one function of the package. `@exits` turns the expected
failures into a one-line `Exit` ("<task>: what went wrong and what to do"); anything else keeps its traceback.
`@compiled` first builds (or finds) the mypyc build of the local cloud, before the task imports it.
A task without options that only calls one function is declared in one line with `calls(name, target, doc)`.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from typing import Any

from invoke import Context, Exit, Task, task

# The failures a task expects, by module: a class whose module is not imported yet cannot have been raised, so the
# check imports nothing (a task must not import the local cloud before `@compiled` ran).
EXPECTED = (
    ("devkit.errors", "TaskFailure"),
    ("devkit.build.bootstraps", "BuildError"),
    ("devkit.bench.run", "BenchError"),
    ("devkit.targets", "TargetError"),
    ("devkit.targets.safety", "ProdRefused"),
    ("devkit.targets.admin", "UnknownUser"),
    ("devkit.deploy.stage", "DeployError"),
    ("devkit.deploy.sam", "SamError"),
    ("devkit.stack", "FaultsRefused"),
)


def expected_errors() -> tuple[type[BaseException], ...]:
    return tuple(getattr(sys.modules[module], name) for module, name in EXPECTED if module in sys.modules)


def exits(*also: type[BaseException]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Expected errors (and `also`) end the task with `Exit("<task>: <message>")` and the error's code (default 1)."""

    def decorate(body: Callable[..., Any]) -> Callable[..., Any]:
        name = body.__name__.replace("_", "-")

        @functools.wraps(body)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return body(*args, **kwargs)
            except Exception as err:
                if not isinstance(err, (*expected_errors(), *also)):
                    raise
                raise Exit(f"{name}: {err}", code=getattr(err, "code", 1)) from None

        return run

    return decorate


def compiled(body: Callable[..., Any]) -> Callable[..., Any]:
    """Runs the task on the mypyc-compiled local cloud when it can be built (devkit/localcloud/native.py)."""

    @functools.wraps(body)
    def run(*args: Any, **kwargs: Any) -> Any:
        from devkit.quality.suite import native_local_cloud

        native_local_cloud()
        return body(*args, **kwargs)

    return run


def calls(name: str, target: str, doc: str) -> Task:
    """A task without options named `name` whose body calls `target` ("module:function", imported when the task
    runs), its expected errors ending it as `@exits` does."""

    def body(c: Context) -> None:
        module, function = target.split(":")
        getattr(importlib.import_module(module), function)()

    body.__name__ = body.__qualname__ = name
    body.__doc__ = doc
    return task(exits()(body))
