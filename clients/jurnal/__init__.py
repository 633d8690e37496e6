"""The Jurnal (Mekari) API client: HMAC or bearer auth, a rate limiter shared through Redis,
retries with backoff, create-once by `custom_id`, paging and cached lookups, typed errors."""

from .client import API_PREFIX, CreateOutcome, JurnalClient, Page, plan_of, to_money
from .errors import (
    JurnalAuthError,
    JurnalDuplicate,
    JurnalError,
    JurnalNotFound,
    JurnalRateLimited,
    JurnalTransientError,
    JurnalUnknownOutcome,
    JurnalValidationError,
)
from .limiter import SharedRateLimiter, Window
from .signing import BearerAuth, HmacAuth, sign, signing_string

__all__ = [
    "API_PREFIX",
    "BearerAuth",
    "CreateOutcome",
    "HmacAuth",
    "JurnalAuthError",
    "JurnalClient",
    "JurnalDuplicate",
    "JurnalError",
    "JurnalNotFound",
    "JurnalRateLimited",
    "JurnalTransientError",
    "JurnalUnknownOutcome",
    "JurnalValidationError",
    "Page",
    "SharedRateLimiter",
    "Window",
    "plan_of",
    "sign",
    "signing_string",
    "to_money",
]
