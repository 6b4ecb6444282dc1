"""`./inv load`: locust headless against a target (`run`); scenarios live in load/locustfile.py at the root."""
