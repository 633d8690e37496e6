"""The use cases, one module each, called by the edges (gateway views, jobs, the CLI):
`companies` (register a Jurnal company, its quota), `moka` (connect a Moka business), `settings`
(create, change, delete), `syncing` (request a sync; the record comes first, then the job),
`replay` (request a replay), `secrets` (rotate the sealing key), `history` (the log and the
read models as the API shows them). The caller's reach is checked at the edge
(`gateway.reach`), before a use case is called. They raise domain errors or their own
(`errors`), never an HTTP answer: the gateway maps them.

Imports go down one ladder: sambung > gateway > jobs > services > projections > infra >
clients > domain. So this room may import `projections`, `infra`, `clients` and `domain`; never
`jobs`, `gateway` or `sambung` (it queues jobs by name, through `infra.queues`).
"""
