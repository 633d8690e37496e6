"""The parts of the event store, one room each; `infra.eventlog.EventLog` puts them together
(its module docstring is the map). Nothing outside `infra.eventlog` imports them but for their
result values and stream ids."""
