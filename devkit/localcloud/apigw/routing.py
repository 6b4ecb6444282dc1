"""HTTP API route selection as API Gateway does it: per path segment a literal beats `{param}` beats
`{proxy+}`, a method beats `ANY`, and `$default` catches the rest. Path parameters are URL-decoded."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from devkit.localcloud.model import RouteSpec


@dataclass(frozen=True)
class CompiledRoute:
    route: RouteSpec
    segments: tuple[tuple[int, str], ...]  # (kind, text): 2 literal, 1 {param}, 0 {proxy+}
    greedy: bool

    def match(self, parts: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        segs = self.segments
        if self.greedy:
            if len(parts) < len(segs):
                return None
        elif len(parts) != len(segs):
            return None
        for i, (kind, text) in enumerate(segs):
            if kind == 0:
                params[text] = unquote("/".join(parts[i:]))
                return params
            part = parts[i]
            if kind == 2:
                if unquote(part) != text:
                    return None
            else:
                if part == "":
                    return None
                params[text] = unquote(part)
        return params

    def rank(self) -> tuple[tuple[int, ...], int, int]:
        return tuple(kind for kind, _ in self.segments), len(self.segments), 0 if self.route.method == "ANY" else 1


def compile_route(route: RouteSpec) -> CompiledRoute:
    segments: list[tuple[int, str]] = []
    greedy = False
    for seg in route.path.strip("/").split("/") if route.path != "/" else [""]:
        if seg.startswith("{") and seg.endswith("+}"):
            segments.append((0, seg[1:-2]))
            greedy = True
        elif seg.startswith("{") and seg.endswith("}"):
            segments.append((1, seg[1:-1]))
        else:
            segments.append((2, seg))
    return CompiledRoute(route, tuple(segments), greedy)


class Router:
    def __init__(self, routes: tuple[RouteSpec, ...]) -> None:
        self.default: RouteSpec | None = None
        self.compiled: list[CompiledRoute] = []
        for route in routes:
            if route.path == "$default":
                self.default = route
            else:
                self.compiled.append(compile_route(route))
        # Best first: the first match in this order is the most specific one.
        self.compiled.sort(key=lambda c: c.rank(), reverse=True)
        self._exact: dict[tuple[str, str], RouteSpec] = {
            (c.route.method, c.route.path): c.route for c in self.compiled if all(k == 2 for k, _ in c.segments)
        }

    def match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        decoded = unquote(path)
        exact = self._exact.get((method, decoded)) or self._exact.get(("ANY", decoded))
        if exact is not None:
            return exact, {}
        parts = path.strip("/").split("/") if path != "/" else [""]
        for compiled in self.compiled:
            if compiled.route.method not in (method, "ANY"):
                continue
            params = compiled.match(parts)
            if params is not None:
                return compiled.route, params
        if self.default is not None:
            return self.default, {}
        return None
