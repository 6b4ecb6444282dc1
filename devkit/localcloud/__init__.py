"""A Docker-free local AWS for this stack: reads infra/template.yaml and runs the real bootstraps.

One module per AWS concept (see ARCHITECTURE.md). The local cloud knows nothing about our services: it only
reads the template.
"""

from devkit import native as _native

_native.activate(__path__)  # the mypyc-compiled hot path, when a build matches these sources (devkit/native.py)
