"""`./inv bench`: measured figures for the local cloud and every function of the template.

Modules, one concern each:
- `stats`: percentiles and summaries (no I/O); the only percentile definition of every report;
- `load`: a bounded, loopback-only HTTP load generator (fixed request count and concurrency), also runnable as
  `python -m devkit.bench.load` so the client never shares a process (or a GIL) with the server it measures;
- `cargo_watch`: `cargo lambda watch --only-lambda-apis` serving a bootstrap that we spawn ourselves;
- `overhead`: the local cloud vs `cargo lambda watch` on the same bootstrap;
- `functions`: per-function cold start, warm latency, RSS and sizes, plus the Python baseline;
- `report`: JSON + Markdown output, comparison with the previous run;
- `currency`, `write_to_read`: currency write-to-readable latency (the section in the report, the measurement);
- `cpu`, `chart`: CPU per request, and the report's charts;
- `cloud`: the local cloud as every benchmark runs it (quiet, reaped by the benchmark);
- `run`: composes the above for the task.

Beside it, `fat` (`./inv bench-fat`: fat vs lith cold starts) and `lmi` (`./inv bench-lmi`: one LMI environment
vs standard environments).
"""
