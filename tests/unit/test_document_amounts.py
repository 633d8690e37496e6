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
