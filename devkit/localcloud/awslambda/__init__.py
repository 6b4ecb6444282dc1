"""Lambda: the Runtime API (`runtime_api`), one execution environment (`environment`), a function's environments
(`pool`), their output and logs (`output`, `logs`), fault injection (`faults`) and the comparison with AWS's
runtime interface emulator (`fidelity`).

Holds no imports: the mypyc-compiled modules (`native`) are put on this package's path before any is imported."""
