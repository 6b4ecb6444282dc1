"""`./inv up`'s ports: one per HTTP API from 3000 in template order, so adding an API never moves the others."""

from __future__ import annotations

from devkit import paths
from devkit.localcloud import load_stack
from devkit.stack import _api_urls

# Documented in README.md (Quick start) and used by hand (curl localhost:3001/posts …): keep them stable.
PORTS = {"AuthApi": 3000, "HttpApi": 3001, "ConvertStandardApi": 3002, "FatApi": 3003, "BlogMicroApi": 3004}


def test_every_api_keeps_its_documented_port() -> None:
    stack = load_stack(paths.TEMPLATE, parameters={"Architecture": "x86_64"})
    assert _api_urls(stack, 3000) == {api: f"http://127.0.0.1:{port}" for api, port in PORTS.items()}


def test_the_micro_api_serves_exactly_the_liths_blog_routes_behind_the_same_authorizer() -> None:
    stack = load_stack(paths.TEMPLATE, parameters={"Architecture": "x86_64"})
    lith_api, micro_api = stack.http_apis["HttpApi"], stack.http_apis["BlogMicroApi"]
    lith = {r.route_key: r for r in lith_api.routes if stack.functions[r.function].binary == "blog-lambda"}
    micro = {r.route_key: r for r in micro_api.routes}
    assert set(micro) == set(lith) - {"GET /health/blog"}
    assert len({r.function for r in micro.values()}) == len(micro), "one function per route"
    for key, route in micro.items():
        assert route.authorizer == lith[key].authorizer, key
        spec = stack.functions[route.function]
        assert spec.binary == "blog-micro-lambda", route.function
        assert route.function == f"BlogMicro{spec.environment['BLOG_OPERATION']}", key
        assert spec.environment["BLOG_TABLE"] == stack.functions["BlogManager"].environment["BLOG_TABLE"]
    assert micro_api.authorizers == lith_api.authorizers
