"""The Jurnal (Mekari) API client: HMAC or bearer auth, Jurnal's four rate limits as a budget
shared through Redis, requests sent only under a caller's live lease, retries with backoff,
create-once by `custom_id`, paging and cached lookups, typed errors."""

from .client import API_PREFIX, CreateOutcome, JurnalClient, Lease, Page, plan_of, to_money
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
from .limiter import Bucket, SharedRateLimiter, Window
from .signing import BearerAuth, HmacAuth, sign, signing_string

__all__ = [
    "API_PREFIX",
    "BearerAuth",
    "Bucket",
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
    "Lease",
    "Page",
    "SharedRateLimiter",
    "Window",
    "plan_of",
    "sign",
    "signing_string",
    "to_money",
]
