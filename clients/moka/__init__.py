"""The Moka client: OAuth with crash-safe refresh-token rotation, both paging styles, retries,
typed errors and `Decimal` money. See `clients.moka.client` for the design."""

from clients.moka.client import MokaClient, RetryPolicy, epoch_param, parse_body
from clients.moka.errors import (
    MokaAuthError,
    MokaError,
    MokaGone,
    MokaNotFound,
    MokaOutletExpired,
    MokaRateLimited,
    MokaReauthorizationRequired,
    MokaRequestError,
    MokaScopeError,
    MokaTransientError,
)
from clients.moka.tokens import InMemoryTokenStore, TokenSet, TokenStore

__all__ = [
    "InMemoryTokenStore",
    "MokaAuthError",
    "MokaClient",
    "MokaError",
    "MokaGone",
    "MokaNotFound",
    "MokaOutletExpired",
    "MokaRateLimited",
    "MokaReauthorizationRequired",
    "MokaRequestError",
    "MokaScopeError",
    "MokaTransientError",
    "RetryPolicy",
    "TokenSet",
    "TokenStore",
    "epoch_param",
    "parse_body",
]
