"""Shared pytest configuration: the suite is black-box where it matters (see tests/README in ARCHITECTURE.md)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
