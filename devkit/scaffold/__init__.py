"""`./inv new-service` and `./inv init`: a new service from the patterns the others use, and a fork's own names.

- `names`: what a service may be called (a crate name that clashes with nothing in the workspace or the template).
- `render`: the `*.tmpl` files under `templates/`, with `{{placeholder}}` substitution and `{{#if flag}}` blocks.
- `edits`: insertions into shared files (template, fat Lambda, docs) at their marked anchors.
- `service`: the whole generation, planned first and written only when every check passed.
- `registry`: the generated services of a checkout (their `[package.metadata.scaffold]`), for the suites.
- `fork`: `./inv init --name NAME`, the project's own name replaced everywhere a fork should own it.
"""
