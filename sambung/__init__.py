"""The application shell, the top floor: the CLI, the demo, the process supervisor and the
worker entry point.

This room wires the others together (design §4). It may import every room; no room imports it
except `wsgi.py` and the tests (tests/unit/test_floors.py checks it). Configuration, the event
store and the composition root live on the ground floor, `infra/`.
"""
