"""The application shell: configuration, the composition root, the CLI and the process tree.

This room wires the others together (design §4). It may import every room; no room imports it
except `wsgi.py`, the CLI entry point and the tests.
"""
