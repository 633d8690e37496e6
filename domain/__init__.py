"""The pure model and rules: settings, sale records and their posting state, the Moka→Jurnal
mapping and money arithmetic.

Imports nothing from Flask, RQ, Redis, requests or marshmallow, and performs no I/O. The
`eventsourcing` library's aggregate base classes are allowed: they are plain Python.
"""
