"""The Moka sandbox: a Flask fake of `api.mokapos.com` (OAuth, v1 library and customers, v3/v4
transactions, invoices, signed webhooks, a `/_sandbox/` control API) and the deterministic outlet
generator that feeds it."""

from sandbox.moka.app import create_app
from sandbox.moka.generator import GeneratedOutlet, generate_outlet
from sandbox.moka.state import Faults, MokaSandbox, Settings
from sandbox.moka.webhooks import WebhookPolicy

__all__ = [
    "Faults",
    "GeneratedOutlet",
    "MokaSandbox",
    "Settings",
    "WebhookPolicy",
    "create_app",
    "generate_outlet",
]
