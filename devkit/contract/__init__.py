"""`./inv contract`: schemathesis against the committed openapi.json (`run`), with tagged test accounts
(`accounts`), stateful links between operations (`links`), request hooks loaded by schemathesis (`hooks`) and the
cleanup of tagged test data (`cleanup`)."""
