"""The generator's one template language: `{{name}}` placeholders and whole-line `{{#if flag}}`/`{{#if !flag}}` …
`{{/if}}` blocks (inline `{{#if flag}}text{{/if}}` too). Anything else between double braces is an error, so a
template cannot silently leave a placeholder in generated code."""

from __future__ import annotations

import re
from pathlib import Path

from devkit.errors import TaskFailure

TEMPLATES = Path(__file__).resolve().parent / "templates"
_BLOCK = re.compile(r"^[ \t]*\{\{#if (!?)(\w+)\}\}[ \t]*\n(.*?)^[ \t]*\{\{/if\}\}[ \t]*\n", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"\{\{#if (!?)(\w+)\}\}(.*?)\{\{/if\}\}", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def render(text: str, values: dict[str, str], flags: dict[str, bool], *, source: str = "template") -> str:
    def keep(match: re.Match[str]) -> str:
        negate, flag, body = match.groups()
        if flag not in flags:
            raise TaskFailure(f"{source}: unknown flag {flag!r}")
        return body if flags[flag] != bool(negate) else ""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise TaskFailure(f"{source}: unknown placeholder {{{{{key}}}}}")
        return values[key]

    text = _INLINE.sub(keep, _BLOCK.sub(keep, text))
    text = _PLACEHOLDER.sub(substitute, text)
    if "{{" in text:
        raise TaskFailure(f"{source}: an unresolved template directive is left")
    return text


def render_file(relative: str, values: dict[str, str], flags: dict[str, bool]) -> str:
    """`templates/<relative>.tmpl`, rendered."""
    path = TEMPLATES / f"{relative}.tmpl"
    return render(path.read_text(), values, flags, source=str(path.relative_to(TEMPLATES)))
