"""A Docker-free local AWS for this stack: reads infra/template.yaml and runs the real bootstraps.

One module per AWS concept (see ARCHITECTURE.md). The local cloud knows nothing about our services: it only
reads the template.
"""
