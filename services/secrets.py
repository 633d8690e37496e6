"""Rotating the key that seals stored secrets: re-seal every Jurnal client secret and Moka token
pair not sealed with the current key (see `infra.secrets` for the procedure)."""

from __future__ import annotations

from infra.eventlog import EventLog


def rotate_secrets(log: EventLog) -> int:
    """Re-seal every secret not sealed with the current key; return how many companies and Moka
    connections changed (a second run changes none)."""
    current = log.secrets.is_current
    resealed = 0
    for company in log.list_companies():
        if not current(company.jurnal_client_secret):
            log.change_jurnal_credentials(
                company.id,
                jurnal_client_id=company.jurnal_client_id,
                jurnal_client_secret=log.secrets.unseal(company.jurnal_client_secret),
            )
            resealed += 1
        for connection in log.list_moka_connections(company.id):
            if current(connection.access_token) and current(connection.refresh_token):
                continue
            tokens = log.moka_tokens(connection.id)
            log.store_moka_tokens(
                connection.id,
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                token_expires_at=tokens.expires_at,
            )
            resealed += 1
    return resealed
