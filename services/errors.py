"""The errors the use cases raise beyond the domain's own (`domain.errors`); the gateway maps
each to an HTTP answer, the CLI to a message."""

from __future__ import annotations


class UpstreamUnavailable(Exception):
    """Jurnal or Moka could not be reached or failed; nothing was stored."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service
        self.message = message


def upstream_unavailable(service: str, error: Exception) -> UpstreamUnavailable:
    """The error for a failure of `service` ("Jurnal" or "Moka"), saying only its status: an
    upstream body or URL could echo a credential back."""
    status = getattr(error, "status", None)
    answered = f"answered {status}" if status else "could not be reached"
    return UpstreamUnavailable(service.lower(), f"{service} {answered}; try again later")


class NotAuthenticated(Exception):
    """The use case needs to know who asks, and the caller showed no credential."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
