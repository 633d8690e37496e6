"""RQ job functions (sync, post, project, replay, sweep) and the scheduler tick.

Jobs are module-level functions taking string ids; they reload state, are safe to run twice and
raise rather than swallow, so that retries apply. They get their adapters from the container
(`infra.bootstrap`).

Imports go down one ladder: sambung > gateway > jobs > services > projections > infra >
clients > domain. So jobs may call the use cases (`services`) and everything below; never
`gateway` or `sambung`.
"""
