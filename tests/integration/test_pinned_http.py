"""The webhook's SSRF guard against DNS rebinding (`infra.pinned_http`), over real sockets.

Two real servers listen on the same port of two loopback addresses. A name's owner controls
what it resolves to, and each lookup may answer differently: the resolver here is injected and
answers from a script, so that the first lookup and any later one can disagree. Traffic must
never leave the machine, so 127.0.0.1 stands in for "the public internet" (the only address the
policy of these tests permits) and 127.0.0.2 for "Sambung's own network" (Redis, `/metrics`,
the metadata address). With the production policy (`public_only`), answers are only ever
refused before anything connects.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import pytest

from infra import pinned_http
from tests.notify_support import Recorder, recording, self_signed_certificate

OUTSIDE, INSIDE = "127.0.0.1", "127.0.0.2"
BODY = b'{"text": "halo"}'
HEADERS = {"Content-Type": "application/json", "X-Sambung-Event": "n-1"}


def outside_only(address: pinned_http.Address) -> bool:
    return address == ipaddress.ip_address(OUTSIDE)


@dataclass
class ScriptedResolver:
    """Answers each name from its list of answers, one per lookup, the last one from then on."""

    answers: dict[str, list[list[str]]]
    lookups: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        script = self.answers[host]
        return script.pop(0) if len(script) > 1 else script[0]


@contextmanager
def outside_and_inside(tls: tuple[ssl.SSLContext, ssl.SSLContext] | None = None) -> Iterator[
    tuple[Recorder, Recorder]
]:  # fmt: skip
    """A server on each address, on one port (the URL names one port for both)."""
    for _ in range(20):  # the port free on 127.0.0.1 may be taken on 127.0.0.2
        with ExitStack() as stack:
            outside = stack.enter_context(recording(OUTSIDE, tls=tls[0] if tls else None))
            try:
                inside = stack.enter_context(
                    recording(INSIDE, outside.port, tls=tls[1] if tls else None)
                )
            except OSError:
                continue
            yield outside, inside
            return
    raise AssertionError("no port free on both loopback addresses")


def post(url: str, resolver: ScriptedResolver, **kwargs) -> pinned_http.Answer:  # type: ignore[no-untyped-def]
    kwargs.setdefault("permitted", outside_only)
    return pinned_http.post(url, BODY, HEADERS, timeout=5, resolve=resolver, **kwargs)


def test_the_name_is_resolved_once_and_the_call_goes_to_the_checked_address():
    with outside_and_inside() as (outside, inside):
        # The rebinding attack: a permitted answer to the first lookup, the inside after it.
        resolver = ScriptedResolver({"hooks.example": [[OUTSIDE], [INSIDE]]})
        answer = post(f"http://hooks.example:{outside.port}/hook?x=1", resolver)
        assert answer.ok and answer.status == 200
        assert resolver.lookups == ["hooks.example"], "one lookup per call, no second one"
        assert inside.calls == []
        (call,) = outside.calls
        assert call["path"] == "/hook?x=1"
        assert call["body"] == BODY
        assert call["headers"]["Host"] == f"hooks.example:{outside.port}"
        assert call["headers"]["X-Sambung-Event"] == "n-1"
        # The next call resolves afresh, sees the inside address, and is refused.
        with pytest.raises(pinned_http.RefusedAddress) as refused:
            post(f"http://hooks.example:{outside.port}/hook", resolver)
        assert refused.value.address == INSIDE
        assert inside.calls == [] and len(outside.calls) == 1


def test_every_address_of_the_name_is_checked_before_any_is_called():
    with outside_and_inside() as (outside, inside):
        for answers in ([OUTSIDE, INSIDE], [INSIDE, OUTSIDE]):
            resolver = ScriptedResolver({"hooks.example": [answers]})
            with pytest.raises(pinned_http.RefusedAddress) as refused:
                post(f"http://hooks.example:{outside.port}/hook", resolver)
            assert refused.value.address == INSIDE
        assert outside.calls == [] and inside.calls == []


def test_a_literal_address_is_checked_without_a_lookup():
    with outside_and_inside() as (outside, inside):
        resolver = ScriptedResolver({})
        with pytest.raises(pinned_http.RefusedAddress):
            post(f"http://{INSIDE}:{inside.port}/hook", resolver)
        assert post(f"http://{OUTSIDE}:{outside.port}/hook", resolver).ok
        assert resolver.lookups == []
        assert inside.calls == [] and len(outside.calls) == 1


def test_the_production_policy_refuses_every_non_public_answer_before_connecting():
    """Whatever else the name answers, one non-public address refuses the call; the global
    address is never dialled (these tests send nothing off the machine)."""
    for address in ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:127.0.0.1",
                    "fd00::1", "100.64.0.1", "0.0.0.0"]:  # fmt: skip
        resolver = ScriptedResolver({"hooks.example": [["8.8.8.8", address]]})
        with pytest.raises(pinned_http.RefusedAddress) as refused:
            pinned_http.post("https://hooks.example/hook", BODY, HEADERS, timeout=5,
                             resolve=resolver)  # fmt: skip
        assert refused.value.address == address


def test_a_redirect_is_followed_only_to_a_checked_address_and_keeps_the_post():
    with outside_and_inside() as (outside, inside):
        # 307 to a name that resolves inside: refused, the inside never called.
        outside.status, outside.location = 307, f"http://internal.example:{inside.port}/hook"
        resolver = ScriptedResolver({"hooks.example": [[OUTSIDE]], "internal.example": [[INSIDE]]})
        with pytest.raises(pinned_http.RefusedAddress) as refused:
            post(f"http://hooks.example:{outside.port}/old", resolver)
        assert refused.value.address == INSIDE
        assert inside.calls == []

        # 308 to another permitted name: followed with the same method and body, that name
        # resolved once, for the hop.
        outside.calls.clear()
        outside.status, outside.location = 308, f"http://new.example:{outside.port}/new"
        resolver = ScriptedResolver({"hooks.example": [[OUTSIDE]], "new.example": [[OUTSIDE]]})
        first = post(f"http://hooks.example:{outside.port}/old", resolver)
        assert first.status == 308, "the server answers 308 to every call, the hop's too"
        assert first.url.startswith("http://new.example")
        assert [c["path"] for c in outside.calls][:2] == ["/old", "/new"]
        assert outside.calls[1]["body"] == BODY
        assert outside.calls[1]["headers"]["Host"] == f"new.example:{outside.port}"
        assert len(outside.calls) == 1 + pinned_http.MAX_REDIRECTS, "the hops are bounded"
        assert resolver.lookups[:2] == ["hooks.example", "new.example"]
        assert inside.calls == []


def test_a_redirect_that_would_turn_the_post_into_a_get_is_not_followed():
    with outside_and_inside() as (outside, inside):
        outside.status, outside.location = 302, f"http://{INSIDE}:{inside.port}/hook"
        resolver = ScriptedResolver({"hooks.example": [[OUTSIDE]]})
        answer = post(f"http://hooks.example:{outside.port}/hook", resolver)
        assert (answer.status, answer.ok, answer.location) == (302, False, outside.location)
        assert len(outside.calls) == 1 and inside.calls == []


def _tls_pair(tmp_path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext, ssl.SSLContext]:
    """A server context for each address, both with a certificate for `name`, and a client
    context that trusts that certificate only."""
    cert, key = self_signed_certificate(tmp_path, dns_names=(name,))
    servers = []
    for _ in range(2):
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert, key)
        servers.append(server)
    client = ssl.create_default_context(cafile=str(cert))
    return servers[0], servers[1], client


def test_https_goes_to_the_pinned_address_and_verifies_the_name(tmp_path):
    outside_tls, inside_tls, client = _tls_pair(tmp_path, "hooks.example")
    with outside_and_inside((outside_tls, inside_tls)) as (outside, inside):
        resolver = ScriptedResolver({"hooks.example": [[OUTSIDE], [INSIDE]]})
        answer = post(f"https://hooks.example:{outside.port}/hook", resolver, tls=client)
        assert answer.ok
        assert outside.server_names == ["hooks.example"], "SNI names the host, not the address"
        assert outside.calls[0]["headers"]["Host"] == f"hooks.example:{outside.port}"
        assert inside.calls == [] and inside.server_names == []

        # A name the certificate does not cover, pinned to the same server: TLS refuses it.
        resolver = ScriptedResolver({"other.example": [[OUTSIDE]]})
        with pytest.raises(pinned_http.Unreachable, match="certificate"):
            post(f"https://other.example:{outside.port}/hook", resolver, tls=client)
        assert len(outside.calls) == 1

        # Without the test's trust the self-signed certificate is refused: verification is on.
        resolver = ScriptedResolver({"hooks.example": [[OUTSIDE]]})
        with pytest.raises(pinned_http.Unreachable, match="certificate"):
            post(f"https://hooks.example:{outside.port}/hook", resolver)
        assert len(outside.calls) == 1


def test_an_unreachable_first_address_falls_back_to_the_next_checked_one():
    with outside_and_inside() as (outside, inside):
        # Nothing listens on 127.0.0.3 at that port: refused at connect, nothing was sent.
        resolver = ScriptedResolver({"hooks.example": [["127.0.0.3", OUTSIDE]]})
        answer = post(f"http://hooks.example:{outside.port}/hook", resolver,
                      permitted=lambda a: str(a) in ("127.0.0.3", OUTSIDE))  # fmt: skip
        assert answer.ok and len(outside.calls) == 1
        resolver = ScriptedResolver({"hooks.example": [["127.0.0.3"]]})
        with pytest.raises(pinned_http.Unreachable):
            post(f"http://hooks.example:{outside.port}/hook", resolver,
                 permitted=lambda a: True)  # fmt: skip
        assert inside.calls == []
