"""The Flask gateway: the app factory, webhook and API blueprints, admin pages, marshmallow schemas
at the edge, and auth.

Views are thin: parse, call one use case, map the result to a status code. May import `domain`,
`infra` (the container), `services`, `projections` and `jobs`; never `sambung`. Performs no I/O
at import time.
"""
