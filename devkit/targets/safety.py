"""Safety rails shared by `./inv contract`, `./inv load` and `./inv clean-test-data`.

Two rules: never hammer something that looks like production (unless the operator says `--i-know`), and
make every piece of data a test creates recognisable, so it can be found and removed afterwards.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

PROD_WORDS = ("prod", "production", "live")
# A prod word as a whole token: `api-prod.example.com`, `/prod`, `prod2`, `live-eu` — not `product` or `delivery`.
_PROD_TOKEN = re.compile(r"(?:^|[^a-z0-9])(?:prod|production|live)(?:[^a-z]|$)")

TEST_EMAIL_PREFIX = "e2e-"
TEST_EMAIL_DOMAIN = "example.test"
TEST_PASSWORD = "contract-and-load-Test-9f3a"


class ProdRefused(RuntimeError):
    """The target looks like production and `--i-know` was not given."""


def looks_like_prod(target: str) -> bool:
    """True when a URL (host or path) or a stage name contains a prod word as a token."""
    text = target.strip().lower()
    if "://" in text:
        parts = urlsplit(text)
        text = f"{parts.hostname or ''} {parts.path}"
    return _PROD_TOKEN.search(text) is not None


def refuse_prod(targets: list[str], *, i_know: bool) -> None:
    """Raise :class:`ProdRefused` naming the first target that looks like production (unless ``i_know``)."""
    if i_know:
        return
    for target in targets:
        if target and looks_like_prod(target):
            raise ProdRefused(
                f"{target!r} looks like production (contains one of {', '.join(PROD_WORDS)}); "
                "contract, load and clean-test-data write to it: pass --i-know if this really is a test stage"
            )


def tagged_email(tag: str) -> str:
    """A fresh, tagged address: `e2e-<tag>-<12 hex>@example.test`."""
    safe = re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-") or "test"
    return f"{TEST_EMAIL_PREFIX}{safe}-{uuid.uuid4().hex[:12]}@{TEST_EMAIL_DOMAIN}"


def is_test_email(email: str) -> bool:
    """True for addresses made by :func:`tagged_email` (or the e2e suite's `unique_email`)."""
    local, _, domain = email.strip().lower().rpartition("@")
    return domain == TEST_EMAIL_DOMAIN and local.startswith(TEST_EMAIL_PREFIX) and len(local) > len(TEST_EMAIL_PREFIX)
