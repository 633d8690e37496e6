"""The use cases, between the edges (gateway views, CLI commands, jobs) and the ground floor:
`usecases` holds the JSON API's use cases with the caller's reach, `connections` connects and
verifies the Jurnal and Moka accounts and builds their clients from stored connections.

May import `domain`, `infra`, `clients`, `projections` and `jobs` (to enqueue work); never
`sambung`. Two links still run the other way and are to be untangled when the use cases gather
here: `usecases` raises the gateway's `ApiError`, and the jobs build their clients through
`connections`.
"""
