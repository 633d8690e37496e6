"""HTTP clients (requests) for Moka and Jurnal: auth, paging, retries, rate limiting, typed errors.

Import nothing from Flask, RQ or the gateway; Redis only for the shared rate limiter. Below
`infra` on the ladder of tests/unit/test_floors.py: may import `domain` only.
"""
