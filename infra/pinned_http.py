"""Outbound HTTP to an address that someone outside chose (a company's notification webhook),
without letting the owner of that name steer the call into Sambung's own network.

A check is only as good as the address actually connected to. Checking a name and then letting an
HTTP library resolve it again leaves a gap, DNS rebinding: a name with a short TTL answers a
public address to the check and 127.0.0.1 (Redis, `/metrics`, the cloud metadata address) to the
call. So here each call resolves the name once, checks *every* address it got, and connects to a
checked address (pinned), while the request still speaks to the name: the `Host` header carries
it, and over HTTPS it is the SNI and the name the certificate must be valid for (urllib3's
`server_hostname`; the TLS context keeps `check_hostname` and `CERT_REQUIRED`).

Redirects: only 307 and 308 (which keep the method and the body) are followed, at most
`MAX_REDIRECTS`, and each hop is resolved, checked and pinned like the first. Any other answer,
a 301/302/303 included (they would turn the POST into a GET without its body), is returned to
the caller as it is. No proxy is used, whatever the environment says: a proxy would resolve the
name again itself.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import certifi
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

MAX_REDIRECTS = 3
ANSWER_BYTES = 64 * 1024  # read no more of an answer than this: only its status matters
_FOLLOWED = (307, 308)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses the name stands for, in the order to try them
Resolver = Callable[[str, int], Sequence[str]]


class RefusedAddress(Exception):
    """The URL's host stands for an address the policy refuses. Permanent: the same name would
    be refused again."""

    def __init__(self, url: str, address: str) -> None:
        super().__init__(f"{url} resolves to {address}, which is not allowed")
        self.url = url
        self.address = address


class Unreachable(Exception):
    """The call could not be made or was cut short (no answer, TLS refused, timeout); trying
    again later may work."""


@dataclass(frozen=True)
class Answer:
    status: int
    url: str  # the URL that gave this answer, after the redirects followed
    location: str | None = None  # of a redirect that was not followed

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of `host` from the system's resolver, in its order, each once."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise Unreachable(f"{host} does not resolve: {error}") from error
    addresses: list[str] = []
    for *_, sockaddr in found:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def public_only(address: Address) -> bool:
    return address.is_global


def anywhere(address: Address) -> bool:
    return True


def default_tls() -> ssl.SSLContext:
    """The trust `requests` gives by default (certifi's bundle), hostname checked."""
    return ssl.create_default_context(cafile=certifi.where())


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    resolve: Resolver = system_resolver,
    permitted: Callable[[Address], bool] = public_only,
    tls: ssl.SSLContext | None = None,
) -> Answer:
    """POST `body` to `url`, resolving each hop once and connecting only to addresses that
    `permitted` allows. Raises `RefusedAddress` or `Unreachable`; any HTTP answer is returned."""
    sent = dict(headers)
    for _ in range(MAX_REDIRECTS + 1):
        status, location = _post_once(url, body, sent, timeout, resolve, permitted, tls)
        if status not in _FOLLOWED or not location:
            return Answer(status, url, location)
        following = urljoin(url, location)
        if urlsplit(following).hostname != urlsplit(url).hostname:
            sent.pop("Authorization", None)  # the credential was for the first host only
        url = following
    return Answer(status, url, location)


def _post_once(
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    resolve: Resolver,
    permitted: Callable[[Address], bool],
    tls: ssl.SSLContext | None,
) -> tuple[int, str | None]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unreachable(f"{url} is not an http(s) URL")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise Unreachable(f"{url}: {error}") from error
    addresses = _checked_addresses(url, host, port, resolve, permitted)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = {**headers, "Host": _host_header(host, parts.port)}
    if parts.username and "Authorization" not in headers:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        sent["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    last: Exception | None = None
    for address in addresses:
        pool = _pool(parts.scheme, address, port, host, timeout, tls)
        try:
            answer = pool.urlopen(
                "POST", target, body=body, headers=sent, redirect=False, retries=False,
                assert_same_host=False, preload_content=False,
            )  # fmt: skip
            try:
                answer.read(ANSWER_BYTES)
            finally:
                answer.release_conn()
            return answer.status, answer.headers.get("Location")
        except (NewConnectionError, ConnectTimeoutError) as error:
            last = error  # nothing was sent: the next checked address may answer
        except (HTTPError, OSError) as error:
            raise Unreachable(f"{url} via {address}: {error}") from error
        finally:
            pool.close()
    raise Unreachable(f"{url}: no address of {host} could be reached: {last}")


def _checked_addresses(
    url: str,
    host: str,
    port: int,
    resolve: Resolver,
    permitted: Callable[[Address], bool],
) -> list[str]:
    literal = literal_address(host)
    found = [host] if literal is not None else list(resolve(host, port))
    if not found:
        raise Unreachable(f"{host} has no address")
    for text in found:
        address = literal_address(text)
        if address is None or not permitted(address):
            raise RefusedAddress(url, text)
    return found


def literal_address(text: str) -> Address | None:
    """The address `text` spells (a zone index dropped), or None for a name."""
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None


def _host_header(host: str, port: int | None) -> str:
    name = f"[{host}]" if ":" in host else host
    return f"{name}:{port}" if port is not None else name


def _pool(
    scheme: str,
    address: str,
    port: int,
    host: str,
    timeout: float,
    tls: ssl.SSLContext | None,
) -> HTTPConnectionPool:
    limits = Timeout(connect=timeout, read=timeout)
    if scheme == "http":
        return HTTPConnectionPool(address, port, timeout=limits, maxsize=1, retries=False)
    # Connect to the pinned address; speak TLS to the name (SNI) and verify the certificate
    # for the name, not for the address.
    return HTTPSConnectionPool(
        address, port, timeout=limits, maxsize=1, retries=False,
        server_hostname=host, ssl_context=tls or default_tls(), cert_reqs="CERT_REQUIRED",
    )  # fmt: skip
