"""Faithful local fakes of the Moka and Jurnal APIs (Flask apps), a deterministic outlet generator
and fault injection. Used by the demo, the tests and the benchmarks; never by production code paths.

May import `domain` (Jurnal's arithmetic lives there); nothing from `gateway`, `jobs` or `clients`.
"""
