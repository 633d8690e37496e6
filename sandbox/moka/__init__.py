"""The Moka sandbox: a Flask fake of `api.mokapos.com` (OAuth, v1 library and customers, v3/v4
transactions, invoices, signed webhooks, a `/_sandbox/` control API) and the deterministic outlet
generator that feeds it."""
