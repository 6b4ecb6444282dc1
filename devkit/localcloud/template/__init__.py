"""The SAM template, read the way `sam local` reads it: `load_stack` expands it offline (aws-sam-translator) and
reads the CloudFormation result into a `StackSpec`; `loader` (expansion, caching), `reader` (resources → specs),
`resolver` (intrinsic functions)."""

from __future__ import annotations

from devkit.localcloud.template.loader import expand, load_stack, parse_yaml
from devkit.localcloud.template.resolver import TemplateError

__all__ = ["TemplateError", "expand", "load_stack", "parse_yaml"]
