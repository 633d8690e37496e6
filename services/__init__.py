"""The use cases, one module each, called by the edges (gateway views, admin pages, jobs, the
CLI): `companies` (register a Jurnal company, its quota), `credentials` (replace a company's Jurnal
credential and resume what the old one blocked), `moka` (connect a Moka business), `settings`
(create, change, delete), `choices` (what a setting's pickers offer from Jurnal), `syncing`
(request a sync; the record comes first, then the job), `replay` (request a replay), `secrets`
(rotate the sealing key), `history` (the log and the read models as the API shows them),
`audit` (who changed what), `notify` (telling people of failures) and `users` (adding a person
who signs in to the admin). The caller's reach is checked at the edge (`gateway.reach`), before a
use case is called; who acts is set there too (`audit.acting_as`). They raise domain errors or
their own (`errors`), never an HTTP answer: the gateway maps them.

Imports go down one ladder: sambung > gateway > jobs > services > projections > infra >
clients > domain. So this room may import `projections`, `infra`, `clients` and `domain`; never
`jobs`, `gateway` or `sambung` (it queues jobs by name, through `infra.queues`).
"""
