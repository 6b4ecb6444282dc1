"""Python side of the monorepo, one package per capability: `tasks` (the invoke collections), `build`, `quality`
(lint and the test suite), `targets`, `contract`, `load`, `bench`, `soak`, `compare`, `deploy`, `observe`, and
`localcloud` (the emulator). `tasks.py` at the root only composes the collections.
"""
