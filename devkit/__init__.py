"""Python side of the monorepo: build, lint, test orchestration, the local cloud, benchmarks and reports.

`tasks.py` is a thin CLI over this package.
"""
