"""API Gateway HTTP APIs: the gateway (`gateway`), route matching (`routing`), the payload format 2.0 mapping
(`payload_v2`) and JWT authorizers (`authorizer`).

Holds no imports: the mypyc-compiled modules (`native`) are put on this package's path before any is imported."""
