"""The ground floor: the services every room uses. The event store (`eventlog`), configuration,
secrets, the embedded Redis, metrics, JSON logging, API tokens, the admin's users (`users`), the
queues' and job functions' names (`queues`), the read models' store and schema (`readmodels`,
`readmodel_schema`) and the one composition root (`bootstrap.Container`), which also builds and
caches the Moka and Jurnal clients.

Imports go down one ladder: sambung > gateway > jobs > services > projections > infra >
clients > domain. So this room may import `clients`, `domain` and libraries; nothing from
`projections`, `services`, `jobs`, `gateway` or `sambung` (tests/unit/test_floors.py checks it).
Performs no I/O at import time.
"""
