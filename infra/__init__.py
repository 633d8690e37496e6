"""The ground floor: the services every room uses. The event store (`eventlog`), configuration,
secrets, the embedded Redis, metrics, JSON logging, API tokens, the admin's users (`users`), the
read models' store and schema (`readmodels`, `readmodel_schema`) and the one composition root
(`bootstrap.Container`).

May import `domain` and libraries; nothing from `jobs`, `projections`, `gateway`, `services` or
`sambung` (tests/unit/test_floors.py checks it). Performs no I/O at import time.
"""
