"""The Jurnal client against the sandbox over real HTTP, with a real Redis: create-once under
409s, the non-atomic duplicate check, dropped answers and timeouts; retries, 429s and the limiter
shared by workers; paging, lookups and typed errors."""

from __future__ import annotations

import random
import threading
import time
from decimal import Decimal

import pytest
import redis as redis_lib

from clients.jurnal import (
    BearerAuth,
    Bucket,
    HmacAuth,
    JurnalAuthError,
    JurnalClient,
    JurnalDuplicate,
    JurnalNotFound,
    JurnalRateLimited,
    JurnalTransientError,
    JurnalUnknownOutcome,
    JurnalValidationError,
    SharedRateLimiter,
    Window,
    plan_of,
    to_money,
)
from sandbox.jurnal import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, JurnalSandbox, create_app
from sandbox.serving import serve_in_thread
from tests.jurnal_support import EPOCH, FakeClock, documented_invoice, tax_body
from tests.waiting import wait_until


@pytest.fixture
def redis_conn(redis_url: str):
    connection = redis_lib.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def served():
    """One server for the module (stopping one costs half a second); each test resets it."""
    clock = FakeClock()
    # Jurnal's documented limits: waiting for budget moves the shared fake clock, at no cost.
    sandbox = JurnalSandbox(clock=clock)
    server = serve_in_thread(create_app(sandbox))
    yield sandbox, clock, server.url
    server.stop()


@pytest.fixture
def clock(served) -> FakeClock:
    """Time for the sandbox and the clients alike; waiting moves it instead of passing it."""
    clock = served[1]
    clock.now = EPOCH
    clock.slept.clear()
    return clock


@pytest.fixture
def sandbox(served, clock) -> JurnalSandbox:
    sandbox = served[0]
    sandbox.reset()
    return sandbox


@pytest.fixture
def url(served, sandbox) -> str:
    return served[2]


@pytest.fixture
def make_client(url, redis_conn, clock):
    def make(**options) -> JurnalClient:
        settings = dict(
            clock=clock,
            sleep=clock.sleep,
            timeout=2.0,
            max_attempts=4,
            backoff_base=0.01,
            settle_seconds=0.01,
            rng=random.Random(7),
        )
        settings.update(options)
        return JurnalClient.with_hmac(
            url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, redis_conn, **settings
        )

    return make


@pytest.fixture
def client(make_client) -> JurnalClient:
    jurnal = make_client()
    jurnal.create("customers", {"display_name": "Ahmad", "custom_id": "ahmad"})
    jurnal.create("products", {"name": "Penjualan", "custom_id": "custom", "product_code": "P1"})
    jurnal.create("taxes", tax_body("ppn10", 10))
    return jurnal


def documents(sandbox: JurnalSandbox, resource: str) -> dict[str, int]:
    return sandbox.state(with_custom_ids=True)["companies"]["1"]["custom_ids"][resource]


# -- create once ------------------------------------------------------------------------------


def test_a_created_invoice_comes_back_with_decimal_money(client):
    outcome = client.create_document("sales_invoices", documented_invoice(deposit=Decimal("30000")))
    invoice = outcome.document
    assert (outcome.created, outcome.recovered) == (True, False)
    assert to_money(invoice["original_amount"]) == Decimal("10692000")
    assert invoice["witholding_amount"] == 972000
    assert isinstance(invoice["tax_details"][0]["tax_amount"], int)
    assert client.get("sales_invoices", "invoice_currency")["id"] == invoice["id"]
    assert plan_of(client.company()) == "enterprise"


def test_a_409_answers_the_existing_document_without_a_second_one(client, sandbox):
    first = client.create("sales_invoices", documented_invoice())
    again = client.create_document("sales_invoices", documented_invoice())
    assert again.created is False
    assert again.document["id"] == first["id"]
    assert documents(sandbox, "sales_invoices") == {"invoice_currency": 1}
    assert sandbox.requests["409"] == 1


def test_a_409_on_someone_elses_transaction_number_is_a_real_conflict(client):
    client.create("sales_invoices", documented_invoice())
    with pytest.raises(JurnalDuplicate) as conflict:
        client.create("sales_invoices", documented_invoice(custom_id="another"))
    assert conflict.value.existing_id is not None


def test_the_sandbox_duplicate_check_is_not_atomic_inside_the_race_window(
    client, make_client, sandbox
):
    sandbox.set_faults({"race_window_ms": 300})
    workers = [make_client(), make_client()]
    start = threading.Barrier(2)
    outcomes = []

    def post(worker: JurnalClient) -> None:
        start.wait()
        outcomes.append(
            worker.create_document("sales_invoices", documented_invoice(transaction_no=None))
        )

    threads = [threading.Thread(target=post, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # both got 201: the live API let twins through the same way
    assert [o.created for o in outcomes] == [True, True]
    assert outcomes[0].document["id"] != outcomes[1].document["id"]
    assert documents(sandbox, "sales_invoices") == {"invoice_currency": 2}


def test_without_a_race_window_concurrent_creates_leave_one_document(client, make_client, sandbox):
    sandbox.set_faults({"latency_ms": 50})
    workers = [make_client() for _ in range(4)]
    start = threading.Barrier(len(workers))
    ids = []

    def post(worker: JurnalClient) -> None:
        start.wait()
        ids.append(worker.create("sales_invoices", documented_invoice(transaction_no=None))["id"])

    threads = [threading.Thread(target=post, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert documents(sandbox, "sales_invoices") == {"invoice_currency": 1}


def test_a_dropped_answer_after_commit_is_found_by_custom_id_and_never_reposted(client, sandbox):
    sandbox.set_faults({"drop_after_commit_rate": 1.0, "methods": ["POST"], "limit": 1})
    posts_before = sandbox.requests["201"]
    outcome = client.create_document("sales_invoices", documented_invoice())
    assert (outcome.created, outcome.recovered) == (True, True)
    assert outcome.document["custom_id"] == "invoice_currency"
    assert documents(sandbox, "sales_invoices") == {"invoice_currency": 1}
    assert sandbox.requests["dropped"] == 1
    assert sandbox.requests["201"] == posts_before  # no second POST went through


def test_a_dropped_customer_is_found_by_listing_because_customers_take_numeric_ids(client, sandbox):
    sandbox.set_faults({"drop_after_commit_rate": 1.0, "methods": ["POST"], "limit": 1})
    outcome = client.create_document("customers", {"display_name": "Budi", "custom_id": "budi"})
    assert outcome.recovered is True
    assert outcome.document["display_name"] == "Budi"
    assert documents(sandbox, "customers") == {"ahmad": 1, "budi": 1}


def test_a_timed_out_create_that_never_committed_is_posted_again_once(make_client, client, sandbox):
    # The hang lasts until the test ends it (or its 30 s are up), however loaded the machine.
    hanging, over, ended = threading.Event(), threading.Event(), threading.Event()

    def hang(seconds: float) -> None:
        hanging.set()
        over.wait(seconds)
        ended.set()

    sandbox.sleep = hang
    sandbox.set_faults(
        {"timeout_rate": 1.0, "timeout_seconds": 30, "methods": ["POST"], "limit": 1}
    )
    impatient = make_client(timeout=0.2)
    try:
        outcome = impatient.create_document("sales_invoices", documented_invoice())
        assert hanging.is_set() and not ended.is_set()  # it did not wait for the hang
    finally:
        over.set()
        sandbox.sleep = time.sleep
    assert (outcome.created, outcome.recovered) == (True, False)
    assert documents(sandbox, "sales_invoices") == {"invoice_currency": 1}
    # the hung request ends uncommitted
    wait_until(lambda: "504" in sandbox.requests, 3, "the hung request to end")
    assert documents(sandbox, "sales_invoices") == {"invoice_currency": 1}


def test_an_unknown_outcome_without_custom_id_is_not_guessed(client, sandbox):
    invoice = client.create("sales_invoices", documented_invoice(deposit=0, deposit_to_name=None))
    sandbox.set_faults({"drop_after_commit_rate": 1.0, "methods": ["POST"], "limit": 1})
    payment = {
        "transaction_date": "2017-06-01",
        "payment_method_name": "Cash",
        "deposit_to_name": "Kas",
        "records_attributes": [{"transaction_no": invoice["transaction_no"], "amount": 1}],
    }
    with pytest.raises(JurnalUnknownOutcome):
        client.create("receive_payments", payment)
    assert sandbox.state()["counts"]["receive_payments"] == 1  # it did happen; we did not repeat it


# -- retries, errors --------------------------------------------------------------------------


def test_transient_read_failures_are_retried_with_growing_backoff(make_client, client, sandbox):
    sleeps: list[float] = []
    patient = make_client(sleep=sleeps.append, backoff_base=0.1)
    sandbox.set_faults({"error_rate": 1.0, "methods": ["GET"], "limit": 2})
    assert patient.get("products", "custom")["name"] == "Penjualan"
    assert sandbox.requests["503"] == 2
    assert len(sleeps) == 2
    assert 0.05 <= sleeps[0] <= 0.1 and 0.1 <= sleeps[1] <= 0.2


def test_failures_outlasting_the_retries_raise_a_transient_error(make_client, client, sandbox):
    sandbox.set_faults({"error_rate": 1.0, "methods": ["GET"]})
    with pytest.raises(JurnalTransientError) as failure:
        make_client(max_attempts=3).get("products", "custom")
    assert failure.value.status == 503
    assert sandbox.requests["503"] == 3


def test_a_delete_whose_answer_was_lost_is_done_when_the_retry_finds_it_gone(client, sandbox):
    product = client.create("products", {"name": "Sisa", "custom_id": "sisa"})
    sandbox.set_faults({"drop_after_commit_rate": 1.0, "methods": ["DELETE"], "limit": 1})
    client.delete("products", product["id"])
    assert client.find_by_custom_id("products", "sisa") is None
    with pytest.raises(JurnalNotFound):
        client.delete("products", product["id"])  # no lost answer: a plain not-found


def test_errors_are_typed(client, url, redis_conn, clock):
    with pytest.raises(JurnalAuthError) as refused:
        JurnalClient.with_hmac(url, DEFAULT_CLIENT_ID, "wrong", redis_conn, clock=clock).company()
    assert refused.value.status == 401
    with pytest.raises(JurnalValidationError) as invalid:
        client.create(
            "sales_invoices",
            documented_invoice(
                transaction_lines_attributes=[{"product_name": "Penjualan", "rate": 0}]
            ),
        )
    assert "Transaction lines amount (Must be greater than 0)" in invalid.value.messages
    assert invalid.value.fields["transaction_lines.amount"] == "(Must be greater than 0)"
    with pytest.raises(JurnalNotFound):
        client.get("sales_invoices", "no-such-invoice")
    assert client.find_by_custom_id("sales_invoices", "no-such-invoice") is None


def test_a_bearer_token_works_like_hmac(url, redis_conn, sandbox):
    sandbox.add_company("Token", "Pro", "token-client", "x", access_token="tok-9")
    jurnal = JurnalClient(url, BearerAuth("tok-9"), redis_conn, rate_limit_per_minute=100)
    assert jurnal.company()["company"]["name"] == "Token"
    assert plan_of(jurnal.company()) == "pro"


# -- rate limits ------------------------------------------------------------------------------


def test_a_429_waits_for_the_next_minute_and_holds_every_worker_off(
    url, redis_conn, sandbox, clock
):
    clock.now = 60.0 * 29481000 + 10
    sandbox.set_faults({"rate_limit_per_minute": 3})

    def worker() -> JurnalClient:
        # A client that believes it has more budget than Jurnal gives.
        return JurnalClient.with_hmac(
            url,
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            redis_conn,
            rate_limit_per_minute=100,
            clock=clock,
            sleep=clock.sleep,
        )

    first, second = worker(), worker()
    for _ in range(4):
        assert first.catalog("tags", refresh=True) == []
    assert sandbox.requests == {"200": 4, "429": 1}
    next_minute = 60.0 * 29481001
    assert clock.now >= next_minute  # it waited for the window to reset, not a blind retry
    assert clock.slept == [pytest.approx(next_minute + 1 - (60.0 * 29481000 + 10))]
    assert second.limiter.try_acquire() == 0  # the hold is over for everyone


def test_a_429_with_room_left_on_the_credential_holds_off_the_ip_bucket(
    url, redis_conn, sandbox, clock
):
    clock.now = 60.0 * 29481000 + 10
    sandbox.set_faults({"ip_rate_limit_per_minute": 2})
    sandbox.add_company("Kedua", "Pro", "second-client", "second-secret")

    def worker(client_id: str, secret: str) -> JurnalClient:
        # Clients that believe the IP has more budget than Jurnal gives.
        return JurnalClient.with_hmac(
            url, client_id, secret, redis_conn, clock=clock, sleep=clock.sleep,
            ip_rate_limit_per_minute=100, max_attempts=1,
        )  # fmt: skip

    first = worker(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    second = worker("second-client", "second-secret")
    first.company()
    first.company()
    with pytest.raises(JurnalRateLimited):
        first.company()
    # The credential had room, so the IP's minute was spent: the other company waits for it too.
    assert second.limiter.try_acquire() == pytest.approx(60.0 * 29481001 + 1 - clock.now)
    assert redis_conn.exists(f"sambung:jurnal:ratelimit:{first.ip_key}:hold")
    assert not redis_conn.exists(f"sambung:jurnal:ratelimit:{first.credential_key}:hold")


def test_after_its_retries_a_429_is_raised(make_client, sandbox):
    sandbox.set_faults({"rate_limited_rate": 1.0})
    with pytest.raises(JurnalRateLimited):
        make_client(max_attempts=2).company()
    assert sandbox.requests["429"] == 2


def test_workers_sharing_the_limiter_stay_under_the_sandbox_limit(url, redis_conn, sandbox, clock):
    sandbox.set_faults({"rate_limit_per_minute": 10})

    def worker(prefix: str) -> JurnalClient:
        limiter = SharedRateLimiter(
            redis_conn,
            [Bucket("client:shared", (Window(10, 60),))],
            clock=clock,
            sleep=clock.sleep,
            prefix=prefix,
        )
        return JurnalClient(
            url,
            HmacAuth(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, clock=clock),
            redis_conn,
            limiter=limiter,
            max_attempts=1,
        )

    def hammer(workers: list[JurnalClient], calls: int) -> list[str]:
        results: list[str] = []
        start = threading.Barrier(len(workers))

        def run(jurnal: JurnalClient) -> None:
            start.wait()
            for _ in range(calls):
                try:
                    jurnal.company()
                    results.append("ok")
                except JurnalRateLimited:
                    results.append("429")

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    shared = [worker("shared"), worker("shared")]
    assert hammer(shared, 5) == ["ok"] * 10
    assert shared[0].limiter.try_acquire() > 55  # the eleventh would wait, not collect a 429
    assert "429" not in sandbox.requests

    clock.advance(120)  # a fresh minute at the sandbox and in the limiter
    alone = [worker("alone-a"), worker("alone-b")]  # each thinks the budget is its own
    # How many 429s depends on how the threads interleave with the retry after the first one;
    # what matters is that workers with their own budgets collect them and shared ones do not.
    refused = hammer(alone, 6).count("429")
    assert refused >= 1
    assert sandbox.requests["429"] >= refused


# -- reading ----------------------------------------------------------------------------------


def test_iterate_pages_through_everything(client, sandbox):
    for n in range(7):
        client.create("customers", {"display_name": f"Pelanggan {n}", "custom_id": f"c{n}"})
    before = sum(sandbox.requests.values())
    names = [c["display_name"] for c in client.iterate("customers", page_size=3)]
    assert names == ["Ahmad", *[f"Pelanggan {n}" for n in range(7)]]
    assert sum(sandbox.requests.values()) - before == 3


def test_lookups_by_name_are_cached_and_follow_our_own_writes(client, sandbox):
    assert client.find_by_name("taxes", "PPN")["rate"] == "11.0"
    before = sum(sandbox.requests.values())
    assert client.find_by_name("taxes", "pb1")["rate"] == "10.0"
    assert client.find_by_name("accounts", "kas")["number"] == "1-10001"
    assert client.find_by_custom_id("taxes", "none-such") is None  # a miss asks Jurnal
    spent = sum(sandbox.requests.values()) - before
    assert spent == 2  # the accounts list and the custom id lookup; taxes came from the cache
    client.create("taxes", tax_body("Pajak Baru", 5, custom_id="baru"))
    before = sum(sandbox.requests.values())
    assert client.find_by_custom_id("taxes", "baru")["name"] == "Pajak Baru"
    assert client.find_by_name("taxes", "pajak baru") is not None
    assert sum(sandbox.requests.values()) == before


def test_a_name_missing_from_a_stale_catalog_is_looked_for_again(client, make_client):
    assert client.find_by_name("tags", "Outlet A") is None
    make_client().create("tags", {"name": "Outlet A"})  # another worker
    assert client.find_by_name("tags", "outlet a")["name"] == "Outlet A"


def test_update_changes_a_document_and_payments_of_an_invoice_are_listed(client):
    invoice = client.create("sales_invoices", documented_invoice(deposit=0, deposit_to_name=None))
    changed = client.update("sales_invoices", "invoice_currency", {"memo": "dibayar"})
    assert changed["memo"] == "dibayar" and changed["id"] == invoice["id"]
    client.create(
        "receive_payments",
        {
            "transaction_date": "2017-06-01",
            "payment_method_name": "Cash",
            "deposit_to_name": "Kas",
            "custom_id": "pay-1",
            "records_attributes": [
                {"transaction_no": invoice["transaction_no"], "amount": "1000.50"}
            ],
        },
    )
    payments = client.invoice_payments(invoice["id"])
    assert [to_money(p["records"][0]["amount"]) for p in payments] == [Decimal("1000.5")]
    remaining = to_money(client.get("sales_invoices", invoice["id"])["remaining"])
    assert remaining == Decimal("10692000") - Decimal("972000") - Decimal("1000.50")
