"""devkit.bench.functions: cheap-request choice, the Python (awslambdaric) baseline under the same runner, and
the Rust vs Python ratios."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from devkit.bench import functions
from devkit.localcloud import FunctionSpec, HttpApiSpec, LocalCloud, PoolSettings, RouteSpec, StackSpec, run
from tests.localcloud.support import function_spec


def _fn(logical_id: str) -> FunctionSpec:
    return function_spec(logical_id, physical_name=f"t-{logical_id}", code_uri=Path("."), binary=logical_id.lower())


def _stack(functions_: list[FunctionSpec], apis: list[HttpApiSpec]) -> StackSpec:
    return StackSpec(
        stack_name="t",
        region="eu-west-1",
        account_id="123456789012",
        functions={f.logical_id: f for f in functions_},
        http_apis={a.logical_id: a for a in apis},
        tables={},
        queues={},
        event_source_mappings=(),
    )


def test_cheap_request_prefers_health_then_open_gets_else_a_direct_sqs_shaped_invoke() -> None:
    api = HttpApiSpec(
        "Api",
        routes=(
            RouteSpec("GET", "/posts/{id}", "Blog"),
            RouteSpec("GET", "/posts", "Blog", authorizer="Jwt"),
            RouteSpec("POST", "/posts", "Blog"),
            RouteSpec("GET", "/health/blog", "Blog"),
            RouteSpec("GET", "/me", "Auth", authorizer="Jwt"),
            RouteSpec("GET", "/.well-known/jwks.json", "Auth"),
        ),
    )
    stack = _stack([_fn("Blog"), _fn("Auth"), _fn("Projector")], [api])
    targets = {t.function: t for t in functions.targets_for(stack)}
    assert (targets["Blog"].kind, targets["Blog"].path) == ("http", "/health/blog")
    assert (targets["Auth"].kind, targets["Auth"].path) == ("http", "/.well-known/jwks.json")  # open before JWT
    projector = targets["Projector"]
    assert (projector.kind, projector.method, projector.body) == ("invoke", "POST", b'{"Records":[]}')
    assert "SQS-shaped" in projector.label


def test_only_the_queue_consumers_get_the_sqs_shaped_event_and_a_hook_is_measured_cold_only() -> None:
    stack = _stack([_fn("Projector"), _fn("DeployCheck")], [])
    targets = {t.function: t for t in functions.targets_for(stack, frozenset({"Projector"}))}
    assert targets["Projector"].body == b'{"Records":[]}' and not targets["Projector"].cold_only
    hook = targets["DeployCheck"]
    assert (hook.kind, hook.body, hook.cold_only) == ("invoke", b"{}", True)
    assert "cold start only" in hook.label


def test_a_function_with_only_guarded_or_parameterised_routes_is_invoked_with_its_v2_event() -> None:
    import json

    api = HttpApiSpec("Api", routes=(RouteSpec("POST", "/posts/{id}/comments", "Comment", authorizer="Jwt"),))
    target = functions.targets_for(_stack([_fn("Comment")], [api]))[0]
    assert (target.kind, target.label) == ("invoke", "invoke POST /posts/{id}/comments (v2 event)")
    event = json.loads(target.body or b"")
    assert event["version"] == "2.0" and event["routeKey"] == "POST /posts/{id}/comments"
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/posts/bench-cold-start/comments"
    assert event["requestContext"]["http"]["method"] == "POST" and "authorization" not in event["headers"]


def test_the_bench_stack_adds_probe_and_python_and_drops_sqs_pollers_and_prestarts() -> None:
    lmi = FunctionSpec(**{**_fn("Lmi").__dict__, "max_concurrency_per_env": 8, "min_environments": 2})
    stack = functions.bench_stack(_stack([lmi], []))
    assert set(stack.functions) == {"Lmi", functions.PROBE, functions.PYTHON}
    assert stack.functions["Lmi"].min_environments == 0  # measured on demand, like the others
    assert stack.event_source_mappings == ()
    routes = {r.path: r.function for r in stack.http_apis[functions.BENCH_API].routes}
    assert routes == {"/echo": functions.PROBE, "/health/python-baseline": functions.PYTHON}


def test_python_baseline_runs_under_the_same_pool_as_any_bootstrap() -> None:
    fn = functions.python_function()
    api = HttpApiSpec("Api", routes=(RouteSpec("GET", "/health/python-baseline", fn.logical_id),))
    stack = _stack([fn], [api])
    cloud = LocalCloud(
        stack,
        {fn.logical_id: functions.PYTHON_DIR / "bootstrap"},
        endpoint_url="http://127.0.0.1:9",
        state_dir=None,
        console=None,
        pool_settings=PoolSettings(console_reports=False),
        control_port=None,
    )

    async def body() -> tuple[int, str, dict, float, int]:
        async with cloud, aiohttp.ClientSession() as session:
            async with session.get(cloud.urls["Api"] + "/health/python-baseline") as response:
                status, content_type, payload = response.status, response.content_type, await response.json()
            pool = cloud.pools[fn.logical_id]
            return status, content_type, payload, pool.init_durations_ms[-1], pool.envs[0].rss_kb()

    status, content_type, payload, init_ms, rss_kb = run(body())
    assert status == 200 and content_type == "application/json"
    assert payload == {"status": "ok", "service": "python-baseline", "version": "0.1.0"}
    assert init_ms > 0
    assert rss_kb > 1024  # a real interpreter, not the shell: the bootstrap execs python


def test_python_baseline_sizes_are_its_files() -> None:
    sizes = functions._sizes(functions.python_function(), functions.PYTHON_DIR / "bootstrap")
    files = (functions.PYTHON_DIR / "handler.py", functions.PYTHON_DIR / "bootstrap")
    assert sizes["bootstrap_bytes"] == sum(f.stat().st_size for f in files)
    assert sizes["zip_bytes"] > 0  # type: ignore[operator]


def _row(name: str, init: float, rss: float, *, template: bool) -> dict:
    return {
        "function": name,
        "template": template,
        "cold": {"init_ms": init, "first_request_ms": init + 1},
        "rss": {"idle_mb": rss, "peak_mb": rss + 1},
    }


def test_language_ratios_against_the_probe_and_the_services_median() -> None:
    rows = [
        _row("A", 10.0, 10.0, template=True),
        _row("B", 20.0, 12.0, template=True),
        _row("C", 30.0, 14.0, template=True),
        _row(functions.PROBE, 5.0, 4.0, template=False),
        _row(functions.PYTHON, 40.0, 16.0, template=False),
    ]
    ratios = functions.language_ratios(rows)
    assert ratios["python_over_probe"]["init_ms"] == pytest.approx(8.0)
    assert ratios["python_over_probe"]["idle_rss_mb"] == pytest.approx(4.0)
    assert ratios["services_median"]["init_ms"] == 20.0
    assert ratios["python_over_services_median"]["init_ms"] == pytest.approx(2.0)
    assert ratios["python_over_services_median"]["peak_rss_mb"] == pytest.approx(17.0 / 13.0)
    json.dumps(ratios)  # report-ready
    assert functions.language_ratios([_row("A", 1.0, 1.0, template=True)]) == {}


def test_paired_cold_starts_feed_the_language_ratio() -> None:
    rows = [
        _row("A", 10.0, 10.0, template=True),
        _row(functions.PROBE, 50.0, 4.0, template=False),  # a disturbed standalone sample
        _row(functions.PYTHON, 60.0, 16.0, template=False),
    ]
    paired = {
        functions.PROBE: {"rounds": 10, "init_ms": 5.0, "init_ms_min": 4.0, "first_request_ms": 6.0},
        functions.PYTHON: {"rounds": 10, "init_ms": 40.0, "init_ms_min": 36.0, "first_request_ms": 42.0},
    }
    ratios = functions.language_ratios(rows, paired)
    assert ratios["python_over_probe"]["init_ms"] == pytest.approx(8.0)
    assert ratios["python_over_probe"]["first_request_ms"] == pytest.approx(7.0)
    assert ratios["python_over_probe"]["init_ms_min"] == pytest.approx(9.0)
    assert ratios["python_over_probe"]["idle_rss_mb"] == pytest.approx(4.0)  # memory from the per-function rows
    assert ratios["python_over_services_median"]["init_ms"] == pytest.approx(4.0)
    assert ratios["paired_cold_starts"] == paired
    assert "init_ms_min" not in functions.language_ratios(rows, {"error": "boom"})["python_over_probe"]
