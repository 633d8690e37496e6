"""The Moka client's pure parts: Decimal money, epoch parameters, token responses."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from clients.moka import TokenSet, epoch_param, parse_body

WIB = timezone(timedelta(hours=7))


def test_floats_and_integer_money_become_decimal_but_ids_and_counts_stay_integers():
    body = parse_body(
        '{"data": {"total_pages": 2, "total_count": 9, "payments": [{"id": "p", "outlet_id": 4522,'
        ' "total_collected": 92000, "subtotal": 52600, "total_rounding_amount": -50,'
        ' "checkouts": [{"item_id": 7, "quantity": -1, "gross_sales": 64000.0, "price": 2000,'
        ' "net_sales": 1643.75, "discount_amount": 356.25}]}]}}'
    )
    data = body["data"]
    assert data["total_pages"] == 2 and isinstance(data["total_pages"], int)
    payment = data["payments"][0]
    assert payment["total_collected"] == Decimal(92000)
    assert isinstance(payment["total_collected"], Decimal)
    assert payment["total_rounding_amount"] == Decimal(-50)
    line = payment["checkouts"][0]
    assert isinstance(line["item_id"], int) and isinstance(line["quantity"], int)
    assert line["net_sales"] + line["discount_amount"] == Decimal(2000)
    assert isinstance(line["price"], Decimal)


def test_since_and_until_are_epoch_seconds_to_the_microsecond():
    moment = datetime(2022, 10, 20, 15, 9, 59, 496155, tzinfo=WIB)
    assert epoch_param(moment) == "1666253399.496155"
    assert epoch_param(datetime(1970, 1, 1, tzinfo=UTC)) == "0.000000"
    assert epoch_param(1486361995.147691) == "1486361995.147691"
    with pytest.raises(ValueError):
        epoch_param(datetime(2024, 1, 1))


def test_a_token_response_with_a_string_created_at_gives_the_expiry():
    tokens = TokenSet.from_response(
        {
            "access_token": "a" * 64,
            "token_type": "bearer",
            "expires_in": 15552000,
            "refresh_token": "b" * 64,
            "scope": "profile report",
            "created_at": "1543378499",
        }
    )
    assert tokens.created_at == 1543378499
    assert tokens.expires_at == datetime.fromtimestamp(1543378499, UTC) + timedelta(days=180)
    assert tokens.scopes == ("profile", "report")
    assert TokenSet.from_dict(tokens.to_dict()) == tokens
    assert tokens.seconds_left(1543378499 + 10) == 15552000 - 10
