"""The Jurnal-side amounts a `DocumentPosted` carries for reconciliation."""

from decimal import Decimal

import pytest

from domain.errors import OutcomeInvalid
from domain.log import check_amounts


def test_amounts_are_kept_as_normalised_strings():
    checked = check_amounts(
        {"total": "92000.00", "tax": Decimal("18410"), "business_date": "2024-05-02"}
    )
    assert checked == {"total": "92000.00", "tax": "18410", "business_date": "2024-05-02"}


def test_paid_is_optional_and_kept_when_given():
    checked = check_amounts(
        {"total": "100", "tax": "10", "paid": "100", "business_date": "2024-05-02"}
    )
    assert checked["paid"] == "100"


@pytest.mark.parametrize(
    ("amounts", "field"),
    [
        ({"tax": "1", "business_date": "2024-05-02"}, "amounts.total"),
        ({"total": 92000.0, "tax": "1", "business_date": "2024-05-02"}, "amounts.total"),
        ({"total": "NaN", "tax": "1", "business_date": "2024-05-02"}, "amounts.total"),
        ({"total": "1", "tax": "x", "business_date": "2024-05-02"}, "amounts.tax"),
        ({"total": "1", "tax": "1", "business_date": "02/05/2024"}, "amounts.business_date"),
        ({"total": "1", "tax": "1"}, "amounts.business_date"),
        ({"total": "1", "tax": "1", "business_date": "2024-05-02", "sum": "1"}, "amounts.sum"),
    ],
)
def test_amounts_that_are_not_decimal_strings_and_a_date_are_refused(amounts, field):
    with pytest.raises(OutcomeInvalid) as refused:
        check_amounts(amounts)
    assert field in refused.value.fields


def test_jurnal_and_moka_a_rupiah_apart_read_as_jurnal_totalled_x_moka_y():
    from domain.log import totals_differ

    amounts = {"total": "92001", "tax": "9200.4", "moka_total": "92000", "moka_tax": "9200"}
    assert totals_differ(check_amounts({**amounts, "business_date": "2024-05-02"})) == (
        "Jurnal totalled 92001, Moka 92000"
    )
    assert totals_differ({**amounts, "total": "92000.99"}) is None  # sen are not a difference
    assert totals_differ({**amounts, "tax": "9199"}) == (
        "Jurnal totalled 92001, Moka 92000; Jurnal taxed 9199, Moka 9200"
    )
    assert totals_differ({"total": "5", "tax": "0"}) is None  # nothing recorded of Moka's


def test_the_engine_records_what_moka_says_beside_what_jurnal_answered():
    from domain.mapping.document import JurnalDocument, MokaAmounts
    from jobs.engine import document_amounts

    invoice = JurnalDocument(
        "sales_invoice",
        "moka-1-sale-s",
        {"sales_invoice": {"transaction_date": "2024-05-02"}},
        MokaAmounts(Decimal(92000), Decimal(9200)),
    )
    answer = {
        "original_amount": "92001.0",
        "tax_amount": "9200.0",
        "transaction_date": "02/05/2024",
    }
    assert document_amounts(invoice, answer) == {
        "total": "92001.0",
        "tax": "9200.0",
        "business_date": "2024-05-02",
        "moka_total": "92000",
        "moka_tax": "9200",
    }
    money = JurnalDocument("customer_credit_memo_refund", "moka-1-payback-r", {})
    answer = {
        "transaction_date": "03/05/2024",
        "credit_memo_refund_lines_attributes": [{"refund_amount": "26434.1"}],
    }
    assert document_amounts(money, answer) == {
        "total": "26434.1",
        "tax": "0",
        "business_date": "2024-05-03",
    }
    entry = JurnalDocument(
        "journal_entry", "moka-1-adjust-r", {}, MokaAmounts(Decimal("-34.1"), Decimal(0))
    )
    assert document_amounts(entry, {"transaction_date": "03/05/2024"})["total"] == "-34.1"
