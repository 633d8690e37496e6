"""The use cases, between the edges (gateway views, jobs, the shell) and the ground floor:
`usecases` holds the JSON API's use cases with the caller's reach (called by the views);
`connections` connects and verifies the Jurnal and Moka accounts; `syncing` records a request
for a run in the log and queues its job. They raise domain errors or their own (`errors`), never
an HTTP answer: the gateway maps them.

Imports go down one ladder: sambung > gateway > jobs > services > projections > infra >
clients > domain. So this room may import `projections`, `infra`, `clients` and `domain`; never
`jobs`, `gateway` or `sambung` (it queues jobs by name, through `infra.queues`).
"""
