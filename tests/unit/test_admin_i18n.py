"""The admin's words: every message in both languages, and what the domain and the engine say in
English reaching the merchant in Bahasa Indonesia."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from domain.errors import QuotaExceeded, SettingInvalid
from domain.log import RunMethod, RunStatus
from domain.mapping.errors import (
    CustomerNotSynced,
    PaymentAccountMissing,
    ProductNotSynced,
    TaxNotInJurnal,
    TaxRateMismatch,
)
from gateway.admin import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"


def test_every_message_exists_in_both_languages():
    assert i18n.check_catalogue() == []
    assert i18n.check_catalogue({"broken": ("ada", "")}) == ["broken"]
    for name, entry in i18n.FIELDS.items():
        assert all(entry["label"]) and all(entry["help"]), name


def test_every_key_a_template_uses_is_in_the_catalogue():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", template.read_text()))
    assert used, "the templates were read"
    # Keys made from a value ('status.' ~ run.status): every value the read models give has one.
    prefixes = {key for key in used if key.endswith(".")}
    assert prefixes == {"status.", "method."}
    assert used - prefixes - set(i18n.MESSAGES) == set()
    for status in RunStatus:
        assert f"status.{status.value}" in i18n.MESSAGES
    for method in RunMethod:
        assert f"method.{method.value}" in i18n.MESSAGES


@pytest.mark.parametrize(
    ("error", "indonesian"),
    [
        (PaymentAccountMissing("Tunai", "Cash"),
         "Pengaturan belum memiliki akun setoran untuk 'Tunai' (pembayaran Moka 'Cash')"),
        (ProductNotSynced("Jaksel | Kopi Susu", "item 12 / variant 3"),
         "Produk 'Jaksel | Kopi Susu' (item 12 / variant 3) tidak ada di Jurnal"),
        (CustomerNotSynced(1950404, "San"), "Pelanggan Moka 'San' (id 1950404) belum ada"),
        (TaxNotInJurnal("Jaksel | PB1", "10"),
         "Jurnal tidak memiliki pajak bernama 'Jaksel | PB1'"),
        (TaxRateMismatch("PPN", "11", "10"),
         "Pajak 'PPN' bertarif 11% di Jurnal tetapi 10% di Moka"),
    ],
)  # fmt: skip
def test_the_engines_known_causes_read_in_bahasa_indonesia(error, indonesian):
    cls = type(error).__name__
    assert i18n.engine_message(cls, error.message, "id").startswith(indonesian)
    english = i18n.engine_message(cls, error.message, "en")
    assert english.split(";")[0] == error.message.split(";")[0]
    field, fix = i18n.fix_for(cls, "id")
    assert fix and field in ("", "payment_accounts", "sync_by_product_name")


def test_an_unknown_engine_message_still_reaches_the_merchant_in_their_language():
    said = i18n.engine_message("JurnalValidationError", "Jurnal answered 422: memo too long", "id")
    assert said.startswith("Dokumen ini gagal disinkronkan.")
    assert "memo too long" in said
    assert i18n.engine_message("JurnalValidationError", "x", "en") == "x"


def test_domain_refusals_and_field_problems_are_translated():
    assert "Kuota pengaturan perusahaan ini (1)" in i18n.error_text(QuotaExceeded(uuid4(), 1), "id")
    needs_pro = "needs Jurnal Pro or Enterprise; this company's package is Basic"
    invalid = SettingInvalid(
        {
            "start_date": "cannot change; delete the setting and create it again",
            "tag": needs_pro,
            "payment_accounts.ovo.tag": needs_pro,
            "name": "Missing data for required field.",
        }
    )
    text = i18n.error_text(invalid, "id")
    assert "Tanggal Awal: tidak dapat diubah; hapus pengaturan lalu buat kembali" in text
    assert "Tag: memerlukan paket Jurnal Pro atau Enterprise; paket perusahaan ini Basic" in text
    assert "Metode Pembayaran › OVO › Tag: memerlukan paket" in text
    assert "Nama Pengaturan: wajib diisi" in text
    assert "Start date: cannot change" in i18n.error_text(invalid, "en")


def test_dates_and_rupiah_as_merchants_read_them():
    moment = datetime.fromisoformat("2018-09-27T11:48:00+07:00")
    assert i18n.when(moment, "id") == "Kam, 27 Sep 2018, 11:48"
    assert i18n.when("2018-09-27T11:48:00+07:00", "en") == "Thu, 27 Sep 2018, 11:48"
    assert i18n.when(None, "id") == "Belum pernah"
    assert i18n.money(Decimal("1234567.50"), "id") == "Rp 1.234.567,50"
    assert i18n.money("1234567", "en") == "Rp 1,234,567"
    assert i18n.money("-2500", "id") == "-Rp 2.500"


def test_the_charts_refusals_name_the_closest_accounts_in_bahasa_indonesia():
    from domain.chart import Account, Chart, check_setting_accounts

    chart = Chart((Account(1, "Kas", "1-10001", 3), Account(2, "Pendapatan", "4-40000", 13)))
    with pytest.raises(SettingInvalid) as refused:
        check_setting_accounts(
            {"sales_account": "Pendapatn", "payment_accounts": {"cash": {"account": "4-40000"}}},
            chart,
        )
    text = i18n.error_text(refused.value, "id")
    assert "Akun Penjualan: menyebut 'Pendapatn', yang bukan akun perusahaan Jurnal ini" in text
    assert "terdekat: Pendapatan (4-40000)" in text
    assert (
        "Metode Pembayaran › Tunai › Akun: menyebut Pendapatan (4-40000), yang bukan akun Kas"
        in text
    )
