"""`sambung map PAYMENT.json [--setting SETTING.json]`: the documents one Moka payment syncs to."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from domain.mapping import JurnalRefs, default_setting, documents_for_payment
from domain.mapping.preview import posted_on_paper
from sambung.cli import main
from tests.moka_sales import BOBA, KOPI, NASI, SERVICE, Till, line
from tests.unit.test_mapping_moka import EXAMPLE, repaired


def run(tmp_path: Path, payment: object, *setting_args: str) -> tuple[int, dict]:
    path = tmp_path / "payment.json"
    path.write_text(json.dumps(payment))
    result = CliRunner().invoke(main, ["map", str(path), *setting_args])
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else {}


def refunded_sale() -> dict:
    till = Till()
    sale = till.sell([line(KOPI, 2, BOBA), line(NASI)], gratuities=[SERVICE], payment_type="card")
    till.refund(sale)
    return sale


def test_prints_the_invoice_payment_return_and_money_paid_back_a_sync_would_send(tmp_path):
    sale = refunded_sale()
    code, printed = run(tmp_path, sale)

    assert code == 0
    documents = printed["documents"]
    assert [d["kind"] for d in documents] == [
        "sales_invoice",
        "receive_payment",
        "sales_return",
        "customer_credit_memo_refund",
    ]
    # The same code path as the worker: the invoice is exactly what the worker would post.
    worker = documents_for_payment(sale, default_setting("4522"), JurnalRefs())[0]
    assert documents[0] == worker.as_json()
    assert documents[1]["body"]["receive_payment"]["records_attributes"][0]["transaction_no"] == (
        "DRY-RUN"
    )
    posted = posted_on_paper(worker)
    assert documents[2]["body"]["sales_return"]["invoice_id"] == posted["id"] == 1
    # The card refund leaves the account the card payment went into, for the whole refund.
    money = documents[3]["body"]["customer_credit_memo_refund"]
    assert money["refund_from_number"] == "1-10002"  # the default bank account, by number
    paid_back = -sale["payment_refunds"][0]["total_collected_amount"]
    assert Decimal(money["credit_memo_refund_lines_attributes"][0]["refund_amount"]) == (
        Decimal(str(paid_back))
    )


def test_uses_the_setting_file_for_naming_customer_tags_and_accounts(tmp_path):
    setting = tmp_path / "setting.json"
    setting.write_text(
        json.dumps(
            {
                "name_prefix": "Outlet Jakarta Selatan",
                "tag": "Jaksel",
                "payment_accounts": {"edc": {"account": "Bank BCA", "tag": "EDC"}},
            }
        )
    )
    code, printed = run(tmp_path, refunded_sale(), "--setting", str(setting))

    assert code == 0
    invoice, payment, _, money = (d["body"] for d in printed["documents"])
    assert invoice["sales_invoice"]["tags"] == ["Jaksel", "EDC"]
    line_tax = invoice["sales_invoice"]["transaction_lines_attributes"][0]["line_tax_name"]
    assert line_tax == "Outlet Jakarta Selatan | PB1"
    assert payment["receive_payment"]["deposit_to_name"] == "Bank BCA"
    assert money["customer_credit_memo_refund"]["refund_from_name"] == "Bank BCA"
    assert money["customer_credit_memo_refund"]["tags"] == ["Jaksel", "EDC"]


def test_reads_a_webhook_and_a_latest_transactions_page_as_well_as_a_bare_payment(tmp_path):
    sale = refunded_sale()
    bare = run(tmp_path, sale)
    webhook = run(tmp_path, {"header": {"event_name": "moka.transaction.refunded"}, "body": sale})
    page = run(tmp_path, {"data": {"payments": [sale]}})
    assert bare == webhook == page


def test_the_official_example_exits_1_saying_which_totals_do_not_add_up(tmp_path):
    result = CliRunner().invoke(main, ["map", str(EXAMPLE)])
    assert result.exit_code == 1
    printed = json.loads(result.output)
    assert printed["documents"] == []
    assert printed["error"]["type"] == "InconsistentPayment"
    assert "taxes vs the tax rows: 18410 vs 7364" in printed["error"]["message"]


def test_the_official_example_with_consistent_rows_maps(tmp_path):
    code, printed = run(tmp_path, repaired())
    assert code == 0
    assert printed["documents"][0]["custom_id"] == (
        "moka-4522-sale-63428a08-86a8-4f64-915a-d2fd2c6e076a"
    )


def test_a_file_without_a_payment_or_a_bad_setting_is_a_usage_error(tmp_path):
    code, _ = run(tmp_path, {"data": {"payments": []}})
    assert code == 1
    bad = tmp_path / "setting.json"
    bad.write_text(json.dumps({"track_inventory": "yes"}))
    result = CliRunner().invoke(main, ["map", str(EXAMPLE), "--setting", str(bad)])
    assert result.exit_code == 1
    assert "'track_inventory' must be true or false" in result.output
