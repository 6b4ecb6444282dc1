"""A Docker-free local AWS: reads a SAM template and runs the real bootstraps, laid out like the services it
emulates (see ARCHITECTURE.md):

- `template/` — the SAM template → `StackSpec` (`model`), offline, as `sam local` reads it;
- `backends/` — where DynamoDB, SQS and Secrets Manager live (moto, DynamoDB Local + ElasticMQ, a deployed
  stage) and `provision` (the template's tables, queues and secrets in a backend);
- `awslambda/` — Runtime API, execution environments, function pools, output, logs, fault injection;
- `apigw/` — HTTP API gateways: routing, payload format 2.0, JWT authorizers;
- `sqs/` — event source mappings; `server/` — the HTTP/1.1 server under all of them;
- `cloud` (the orchestrator), `control` (Lambda Invoke API, status, faults), `host` (ports, processes, cache),
  `native` (the mypyc-compiled hot path).

This module is the public API: the rest of the repository imports these names from here, never from a submodule.
A name's module is imported on first use, so `from devkit.localcloud import process_alive` does not load the
gateway. The local cloud knows nothing about the services it runs: it only reads the template, and its callers
hand it the bootstraps' paths.
"""

from __future__ import annotations

import importlib
from typing import Any

from devkit.localcloud import native

native.activate(__path__)  # the mypyc-compiled hot path, when a build matches these sources (native.py)

_EXPORTS = {  # public name → the module defining it
    **dict.fromkeys(
        ["LocalCloud", "LocalCloudError", "api_urls_for", "new_event_loop", "run", "serve_until_signalled"],
        "cloud",
    ),
    **dict.fromkeys(
        [
            "DUMMY_CREDENTIALS",
            "FunctionSpec",
            "HttpApiSpec",
            "InvokeResult",
            "PoolSettings",
            "QueueSpec",
            "RouteSpec",
            "StackSpec",
        ],
        "model",
    ),
    **dict.fromkeys(["TemplateError", "expand", "load_stack", "parse_yaml"], "template"),
    **dict.fromkeys(["Backend", "BackendError", "BackendKind", "create_backend", "stack_name_for"], "backends"),
    **dict.fromkeys(["ManagedProcess", "relaunch_server", "stop_leftovers", "stop_server"], "backends.process"),
    "provision": "backends.provision",
    **dict.fromkeys(["LogRecord", "NO_REQUEST", "follow_records", "parse_line", "read_records"], "awslambda.logs"),
    "lambda_environment": "awslambda.environment",
    **dict.fromkeys(["cache_dir", "free_port", "free_port_block", "process_alive"], "host"),
}

__all__ = sorted([*_EXPORTS, "native"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
