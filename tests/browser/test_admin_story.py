"""The merchant's story in a real browser, against both sandboxes and a real worker: sign in, add
the Jurnal company, connect Moka through its OAuth page, create a setting, sync master data, sync
transactions while the history updates itself, see "Penjualan: N dari N", break a payment mapping
and see the error, fix it, replay after a dry run and see the error gone, open the
reconciliation. Once on a desktop and once at phone width (375 px), where no screen may scroll
sideways. Also: a form without its CSRF token is refused, and a company's user cannot open
another company's pages."""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import expect

from infra.users import add_user
from tests.browser.conftest import OPERATOR, PASSWORD, Admin
from tests.engine_support import worker_processes
from tests.gateway_support import make_tenant
from tests.waiting import wait_until

OTHER_BUCKETS = ("edc", "gift_card", "ovo", "tcash", "other")
# Records the newest run's row each time the page's script swaps the rows in.
WATCH_THE_RUNS = """() => {
  window.seenRuns = [];
  const body = document.querySelector("#runs tbody");
  new MutationObserver(() => {
    const row = body.querySelector("tr.run");
    if (row) { window.seenRuns.push(row.innerText.replace(/\\s+/g, " ")); }
  }).observe(body, { childList: true });
}"""


def sign_in(page: Any, admin: Admin, email: str = OPERATOR, shoot: bool = False) -> None:
    page.goto(admin.url + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    if shoot:
        admin.shoot(page, "login")
    page.click("form button.primary")
    expect(page.locator("h1")).to_have_text("Daftar Pengaturan")


def until_shown(page: Any, url: str, selector: str, timeout: float = 60.0) -> Any:
    """Open `url` again until `selector` is on it (for pages without live updates)."""

    def shown() -> bool:
        page.goto(url)
        return bool(page.locator(selector).count())

    wait_until(shown, timeout, f"{selector} on {url}", interval=0.3)
    return page.locator(selector)


def ring_up_cash_sale(admin: Admin) -> str:
    _, outlet = admin.moka.sandbox.outlet(admin.outlet_id)
    item = next(i for i in outlet.items.values() if not i["is_deleted"])
    answer = admin.moka.control(
        "POST", "/payments",
        json={"outlet_id": admin.outlet_id,
              "payment": {"checkouts": [{"item_id": item["id"], "quantity": 2}],
                          "payment_type": "cash"}},
    )  # fmt: skip
    return str(answer["id"])


def jurnal_faults(admin: Admin, **faults: Any) -> None:
    answer = requests.post(f"{admin.jurnal.url}/_sandbox/faults", json=faults, timeout=10)
    assert answer.status_code == 200, answer.text


def test_the_merchants_story(page: Any, served_admin: Admin) -> None:
    admin = served_admin
    with worker_processes(SimpleNamespace(env=admin.env)):  # type: ignore[arg-type]
        # 1. Sign in.
        sign_in(page, admin, shoot=True)
        admin.shoot(page, "settings-empty")

        # 2. Add the Jurnal company by its credential: its package and quota show.
        page.click("header nav >> text=Perusahaan")
        form = page.locator("#add-company")
        form.locator("input[name=name]").fill("PT Kafe Sandbox")
        form.locator("input[name=jurnal_client_id]").fill("sandbox-jurnal-client")
        form.locator("input[name=jurnal_client_secret]").fill("sandbox-jurnal-secret")
        form.locator("button").click()
        expect(page.locator(".flash")).to_contain_text("Perusahaan PT Kafe Sandbox ditambahkan")
        company = page.locator("#companies tr", has_text="PT Kafe Sandbox")
        expect(company.locator(".package")).to_have_text("Enterprise")
        expect(company.locator(".quota")).to_have_text("0 dari 1 terpakai")
        admin.shoot(page, "companies")

        # 3. Connect Moka through its OAuth sign-in page, then pick the outlet.
        company.locator("a", has_text="+ Tambah Pengaturan Baru").click()
        expect(page.locator("h1")).to_have_text("Tambah Pengaturan Baru")
        admin.shoot(page, "new-setting")
        page.click("#connect-moka")
        expect(page).to_have_url(re.compile(re.escape(admin.moka.url) + "/oauth/authorize"))
        page.fill("input[name=email]", admin.seeded["email"])
        page.fill("input[name=password]", "sandbox-password")
        admin.shoot(page, "moka-oauth", ours=False)
        page.click("button[value=allow]")
        expect(page.locator(".flash")).to_contain_text("Moka terhubung")
        admin.shoot(page, "outlets")
        page.click(f"a[data-outlet='{admin.outlet_id}']")

        # 4. The form: every field, pickers filled from Jurnal, help beside each field.
        expect(
            page.locator("#field-warehouse select option", has_text="Gudang Utama")
        ).to_have_count(1)
        expect(page.locator("#field-start_date .help")).to_contain_text("Diatur satu kali")
        page.fill("input[name=name]", "Kafe Sandbox Jaksel")
        page.fill("input[name=start_date]", "2024-05-01")
        page.fill("input[name=default_customer]", "Pelanggan Umum")
        page.fill("input[name=name_prefix]", "Jaksel")
        page.select_option("select[name=tag]", "Outlet Jaksel")
        page.select_option("select[name=warehouse]", "Gudang Utama")
        page.select_option("select[name=sales_account]", label="Pendapatan (4-40000)")
        # Left empty, the purchase account is the company's default, which the picker names.
        expect(page.locator("select[name=purchase_account] option").first).to_have_text(
            "— Akun standar: Beban Pokok Pendapatan (5-50000) —"
        )
        page.select_option("select[name='payment_accounts.cash.account']", label="Kas (1-10001)")
        page.select_option("select[name='payment_accounts.cash.tag']", "Tunai")
        for bucket in OTHER_BUCKETS:
            page.select_option(f"select[name='payment_accounts.{bucket}.account']", "1-10002")
        admin.shoot(page, "setting-form")
        page.click("#save-setting")
        expect(page.locator(".flash")).to_contain_text("Pengaturan Kafe Sandbox Jaksel disimpan")
        # Set-once fields are read-only now, and not sent.
        for name in ("start_date", "default_customer", "name_prefix"):
            expect(page.locator(f"#field-{name} input")).to_have_attribute("readonly", "")
            expect(page.locator(f"#field-{name} input[name]")).to_have_count(0)
        admin.shoot(page, "setting-detail")

        # The quota (1) is used up: a second setting is refused, saying why.
        page.click("header nav >> text=Daftar Pengaturan")
        expect(page.locator("button.add-setting")).to_be_disabled()
        expect(page.locator(".refusal")).to_contain_text("Kuota pengaturan perusahaan ini (1)")

        # 5. Sync master data: the history shows it finish by itself.
        row = page.locator("tr[data-setting]", has_text="Kafe Sandbox Jaksel")
        row.locator("button.sync-master").click()
        expect(page.locator("h1")).to_contain_text("Daftar Sinkronisasi")
        master = page.locator("#runs tr.run", has_text="Master Data Tersinkronisasi")
        expect(master.locator(".status")).to_have_text("Sukses", timeout=60_000)
        expect(master.locator(".summary")).to_contain_text(re.compile(r"Produk: (\d+) dari \1"))
        expect(master.locator(".summary")).to_contain_text(re.compile(r"Pelanggan: (\d+) dari \1"))

        # 6. Sync transactions and watch the progress, without reloading the page. Jurnal is
        # slowed down so that the run is seen running.
        jurnal_faults(admin, latency_ms=300, methods=["POST"])
        page.click("header nav >> text=Daftar Pengaturan")
        page.locator("tr[data-setting]", has_text="Kafe Sandbox Jaksel").locator(
            "button.sync-transactions"
        ).click()
        # The click posts a form and lands on the history: watch that page, not the one left.
        expect(page.locator("h1")).to_contain_text("Daftar Sinkronisasi")
        expect(page.locator("#runs tbody")).to_be_attached()
        page.evaluate(WATCH_THE_RUNS)
        expect(page.locator("#live-note")).to_be_visible()
        sales = page.locator("#runs tr.run", has_text="Transaksi Tersinkronisasi").first
        expect(sales.locator(".status")).to_have_text("Berjalan", timeout=30_000)
        admin.shoot(page, "history-running")
        expect(sales.locator(".status")).to_have_text("Sukses", timeout=90_000)
        jurnal_faults(admin, latency_ms=0, methods=[])
        # The same page (never reloaded) showed the sales counting up while the run ran.
        seen = page.evaluate("window.seenRuns")
        assert seen is not None, "the page was reloaded"
        assert any("Berjalan" in row and "Penjualan:" in row for row in seen), seen
        expect(page.locator("#live-note")).to_be_hidden()

        # 7. "Penjualan: N dari N", and N invoices in Jurnal.
        summary = sales.locator(".summary").inner_text()
        found = re.search(r"Penjualan: (\d+) dari (\d+)", summary)
        assert found and found[1] == found[2] and int(found[1]) > 0, summary
        assert admin.jurnal_counts()["sales_invoices"] == int(found[1])
        admin.shoot(page, "history")
        page.click("header nav >> text=Daftar Pengaturan")
        synced = page.locator("tr[data-setting]", has_text="Kafe Sandbox Jaksel")
        # Last successful and last sync, for master data and transactions, with status marks.
        expect(synced).to_contain_text(re.compile(r"Transaksi: \w+, \d\d \w+ \d{4}, \d\d:\d\d"))
        expect(synced.locator(".mark.sukses")).to_have_count(2)
        admin.shoot(page, "settings")

        # 8. Break the cash mapping; a new cash sale arrives by webhook and its payment fails.
        page.click("text=Kafe Sandbox Jaksel")
        cash_account = page.locator("select[name='payment_accounts.cash.account']")
        expect(cash_account).to_be_visible()  # the setting's page, whose address is kept below
        setting_url = page.url
        cash_account.select_option("")
        page.click("#save-setting")
        expect(page.locator(".flash")).to_contain_text("Perubahan disimpan")
        ring_up_cash_sale(admin)
        errors_url = setting_url + "/errors"
        cause = until_shown(page, errors_url, ".cause[data-error-class=PaymentAccountMissing]")
        expect(cause.locator(".message")).to_contain_text(
            "Pengaturan belum memiliki akun setoran untuk 'Tunai'"
        )
        admin.shoot(page, "errors")
        # The run that posted it shows the error in its drill-down.
        page.goto(setting_url + "/history")
        page.locator("#runs a.errors-link").first.click()
        expect(page.locator("#run-errors .message")).to_contain_text("akun setoran untuk 'Tunai'")
        admin.shoot(page, "run-errors")
        # Meanwhile the reconciliation highlights today's difference and lists its sale.
        today = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
        today_url = f"{setting_url}/reconciliation?from={today}&to={today}"
        page.goto(today_url)
        expect(page.locator("#recon tr.day.differs")).to_have_count(1)
        page.locator("#recon tr.sales summary").click()
        expect(page.locator("#recon table.inner tbody tr")).to_have_count(1)
        admin.shoot(page, "reconciliation-difference")

        # 9. Fix the mapping from the error's link to the field.
        page.goto(errors_url)
        page.locator(".cause[data-error-class=PaymentAccountMissing] .fix-link").click()
        expect(page).to_have_url(re.compile(r"#field-payment_accounts\.cash\.account$"))
        page.select_option("select[name='payment_accounts.cash.account']", "1-10001")
        page.click("#save-setting")
        expect(page.locator(".flash")).to_contain_text("Perubahan disimpan")

        # 10. Replay: a dry run first, then for real; the error is gone.
        page.goto(errors_url)
        page.click("#replay-preview")
        expect(page.locator("#planned tr.ready")).not_to_have_count(0)
        expect(page.locator("#planned tr.still-fails")).to_have_count(0)
        admin.shoot(page, "replay-preview")
        before = admin.jurnal_counts()["receive_payments"]
        page.click("#replay-run")
        replayed = page.locator("#runs tr.run", has_text="Kirim Ulang").first
        expect(replayed.locator(".status")).to_have_text("Sukses", timeout=60_000)
        assert admin.jurnal_counts()["receive_payments"] == before + 1
        until_shown(page, errors_url, "#no-errors")
        admin.shoot(page, "errors-fixed")

        # 11. The reconciliation: Moka against Jurnal, day by day.
        page.goto(setting_url)
        page.click("a.button >> text=Rekonsiliasi")
        days = page.locator("#recon tr.day")
        expect(days).not_to_have_count(0)
        for opened in page.locator("#recon tr.sales summary").all():
            opened.click()
        admin.shoot(page, "reconciliation")
        # Every rupiah Moka collected reached Jurnal; a sale that differs in any column is listed
        # under its day, one row per sale.
        for cell in page.locator("#recon tr.day .difference").all():
            expect(cell).to_have_text("Rp 0")
        for listed in page.locator("#recon tr.sales").all():
            count = int(re.search(r"\d+", listed.locator("summary").inner_text())[0])
            expect(listed.locator("table.inner tbody tr")).to_have_count(count)
        page.goto(today_url)
        expect(page.locator("#recon tr.day.matches")).to_have_count(1)

        # Tutorial and Do's & Don'ts, in both languages.
        page.click("header nav >> text=Tutorial")
        expect(page.locator("#tutorial h1")).to_contain_text("Tutorial")
        admin.shoot(page, "tutorial")
        page.click("header nav >> text=Do's & Don'ts")
        expect(page.locator("#dos")).to_contain_text("Jangan")
        page.click("header nav a.lang")
        expect(page.locator("#dos")).to_contain_text("Don't")
        admin.shoot(page, "dos-english")


def test_a_form_without_its_csrf_token_is_refused(desktop: Any, served_admin: Admin) -> None:
    admin = served_admin
    tenant = make_tenant(admin.container, "PT Prima FnB")
    sign_in(desktop, admin)
    desktop.goto(f"{admin.url}/settings/{tenant.setting_id}/delete")
    desktop.evaluate("document.querySelector('main form input[name=csrf_token]').remove()")
    desktop.click("#confirm-delete")
    expect(desktop.locator(".flash.error")).to_contain_text("Formulir ini kedaluwarsa")
    assert admin.container.log.get_setting(tenant.setting_id).name  # still there
    # With its token the same form works.
    desktop.goto(f"{admin.url}/settings/{tenant.setting_id}/delete")
    desktop.click("#confirm-delete")
    expect(desktop.locator(".flash")).to_contain_text("dihapus")


def test_a_company_user_cannot_open_another_companys_pages(
    desktop: Any, served_admin: Admin
) -> None:
    admin = served_admin
    mine = make_tenant(admin.container, "PT Mine")
    theirs = make_tenant(admin.container, "PT Theirs")
    add_user(admin.container.log, "kasir@mine.test", PASSWORD, company_id=mine.company_id)
    sign_in(desktop, admin, "kasir@mine.test")
    expect(desktop.locator("section.company")).to_have_count(1)
    expect(desktop.locator("section.company h2")).to_contain_text("PT Mine")
    for path in (
        f"/settings/{theirs.setting_id}",
        f"/settings/{theirs.setting_id}/history",
        f"/settings/{theirs.setting_id}/errors",
        f"/settings/{theirs.setting_id}/reconciliation",
        f"/companies/{theirs.company_id}/settings/new",
    ):
        answer = desktop.goto(admin.url + path)
        assert answer is not None and answer.status == 404, path
        expect(desktop.locator(".flash.error")).to_contain_text("tidak ditemukan")
    answer = desktop.goto(f"{admin.url}/settings/{mine.setting_id}/history")
    assert answer is not None and answer.status == 200
