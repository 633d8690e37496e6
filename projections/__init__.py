"""Read models that follow the event log from their own tracking position: sync history, open
errors, settings overview, reconciliation. Derived data, dropped and rebuilt from the log on demand.
Their tables live in the store of `infra.readmodels`.

May import `domain` and `infra`; never calls Moka or Jurnal.
"""
