"""The use cases, between the edges (gateway views, jobs, the shell) and the ground floor:
`usecases` holds the JSON API's use cases with the caller's reach (called by the views);
`connections` connects and verifies the Jurnal and Moka accounts and builds their clients from
stored connections (also for the jobs and the demo).

May import `domain`, `infra`, `clients`, `projections` and `jobs` (to enqueue work); never
`sambung`. Two links still run the other way and are to be untangled when the use cases gather
here: `usecases` raises the gateway's `ApiError`, and the jobs build their clients through
`connections`.
"""
