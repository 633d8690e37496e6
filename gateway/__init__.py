"""The Flask gateway: the app factory, webhook and API blueprints, admin pages, marshmallow schemas
at the edge, and auth.

Views are thin: parse, check the caller's reach (`reach`), call one use case of `services`, map
the result to a status code. Imports go down one ladder: sambung > gateway > jobs > services >
projections > infra > clients > domain. So the gateway may import every room but `sambung` (it
runs the engine of `jobs` in the request only for a replay's dry run). Performs no I/O at import
time.
"""
