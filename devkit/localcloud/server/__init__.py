"""The HTTP/1.1 server under the gateway, the Runtime API and the control endpoint (`http1`).

Holds no imports: the mypyc-compiled modules (`native`) are put on this package's path before any is imported."""
