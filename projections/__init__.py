"""Read models that follow the event log from their own tracking position: sync history, open
errors, settings overview, reconciliation. Derived data, dropped and rebuilt from the log on demand.
Their tables live in the store of `infra.readmodels`.

May import `infra`, `clients` and `domain` (the rooms below it on the ladder of
tests/unit/test_floors.py); never calls Moka or Jurnal.
"""
