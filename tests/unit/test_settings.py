from datetime import UTC, date, datetime, time

import pytest

from domain.errors import (
    CompanyInvalid,
    ImmutableField,
    MasterDataNotSynced,
    MokaConnectionInvalid,
    PlanRequired,
    QuotaExceeded,
    SettingInvalid,
    SettingNotFound,
)
from domain.sealed import Sealed
from domain.settings import (
    Company,
    JurnalPackage,
    MokaConnection,
    PaymentAccount,
    Setting,
    one_month_before,
)

SEALED = Sealed("k1", "ciphertext")


def company(package="Enterprise", quota=1):
    return Company.register(
        name="PT Prima FnB",
        jurnal_client_id="client",
        jurnal_client_secret=SEALED,
        package=package,
        quota=quota,
    )


def connection(owner, outlets=None):
    return MokaConnection.connect(
        company_id=owner.id,
        email="owner@example.com",
        business_id=9,
        outlets=outlets or {4522: "Jakarta Selatan", 4523: "Bandung"},
        access_token=SEALED,
        refresh_token=SEALED,
    )


def values(**changes):
    base = {
        "outlet_id": "4522",
        "name": "Jakarta Selatan",
        "start_date": date(2024, 5, 1),
        "default_customer": "Pelanggan Umum",
        "sales_account": "4-40000",
        "purchase_account": "5-50000",
    }
    return {**base, **changes}


def setting(owner=None, **changes):
    owner = owner or company()
    return Setting.create(company=owner, connection=connection(owner), values=values(**changes))


def test_a_new_setting_takes_the_documented_defaults():
    created = setting()
    assert created.sync_time == time(22, 0)
    assert created.auto_sync is True
    assert created.track_inventory is False
    assert created.sync_by_product_name is False
    assert (created.name_prefix, created.name_suffix) == ("", "")
    assert (created.tag, created.warehouse) == (None, None)
    assert created.payment_accounts == {}


def test_every_bad_field_is_named_at_once():
    with pytest.raises(SettingInvalid) as refused:
        setting(name=" ", start_date="01/05/2024", track_inventory="yes", sync_time="10pm")
    assert set(refused.value.fields) == {"name", "start_date", "track_inventory", "sync_time"}
    assert refused.value.fields["start_date"] == "must be a date, YYYY-MM-DD"
    assert "name is required" in str(refused.value)


def test_required_fields_must_be_given():
    given = values()
    del given["default_customer"], given["name"]
    owner = company()
    with pytest.raises(SettingInvalid) as refused:
        Setting.create(company=owner, connection=connection(owner), values=given)
    assert refused.value.fields == {"default_customer": "is required", "name": "is required"}


def test_accounts_left_out_are_the_companys_defaults():
    given = values()
    del given["sales_account"], given["purchase_account"]
    owner = company()
    created = Setting.create(company=owner, connection=connection(owner), values=given)
    assert created.sales_account is None and created.purchase_account is None
    assert created.sell_tax_account is None and created.buy_tax_account is None
    created.update({"sell_tax_account": "VAT Out", "buy_tax_account": " "}, owner.package)
    assert created.values()["sell_tax_account"] == "VAT Out"
    assert created.buy_tax_account is None


def test_dates_and_times_may_come_as_iso_text():
    created = setting(start_date="2024-05-01", sync_time="21:30")
    assert created.start_date == date(2024, 5, 1)
    assert created.sync_time == time(21, 30)


def test_a_start_date_with_a_time_is_refused():
    with pytest.raises(SettingInvalid, match="start_date must be a date without a time"):
        setting(start_date=datetime(2024, 5, 1, 8, 0))


def test_the_sync_time_is_a_wall_clock_time_without_offset():
    with pytest.raises(SettingInvalid) as refused:
        setting(sync_time=time(22, 0, tzinfo=UTC))
    assert "sync_time" in refused.value.fields


def test_the_outlet_must_belong_to_the_moka_connection():
    with pytest.raises(SettingInvalid) as refused:
        setting(outlet_id=999)
    assert refused.value.fields["outlet_id"].startswith("999 is not one of")


def test_a_connection_of_another_company_is_refused():
    owner, other = company(), company()
    with pytest.raises(SettingInvalid) as refused:
        Setting.create(company=owner, connection=connection(other), values=values())
    assert refused.value.fields == {"moka_connection_id": "belongs to another company"}


def test_payment_accounts_map_known_buckets_to_an_account_and_tag():
    created = setting(
        payment_accounts={
            "cash": {"account": "1-10001"},
            "ovo": {"account": "1-10002", "tag": "OVO"},
        }
    )
    assert created.payment_accounts == {
        "cash": PaymentAccount("1-10001", None),
        "ovo": PaymentAccount("1-10002", "OVO"),
    }
    assert created.values()["payment_accounts"]["ovo"] == {"account": "1-10002", "tag": "OVO"}


def test_an_unknown_bucket_or_a_missing_account_is_named():
    with pytest.raises(SettingInvalid) as refused:
        setting(payment_accounts={"bitcoin": {"account": "1"}, "edc": {"tag": "x"}})
    assert set(refused.value.fields) == {"payment_accounts.bitcoin", "payment_accounts.edc.account"}


def test_naming_is_applied_with_a_separator():
    created = setting(name_prefix="Outlet Jakarta Selatan")
    assert created.apply_naming("Jus Jeruk") == "Outlet Jakarta Selatan | Jus Jeruk"
    assert setting(name_suffix="JKT").apply_naming("Jus") == "Jus | JKT"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_date", date(2024, 6, 1)),
        ("default_customer", "Walk-in"),
        ("name_prefix", "Bandung"),
        ("name_suffix", "BDG"),
        ("outlet_id", "4523"),
    ],
)
def test_fields_set_once_are_refused_with_a_clear_message(field, value):
    created = setting()
    with pytest.raises(ImmutableField) as refused:
        created.update({field: value}, JurnalPackage.ENTERPRISE)
    assert str(refused.value) == (f"{field} cannot change; delete the setting and create it again")
    assert getattr(created, field) != value


def test_sending_the_current_value_of_an_immutable_field_is_not_a_change():
    created = setting()
    applied = created.update(
        {"start_date": "2024-05-01", "name": "Jaksel"}, JurnalPackage.ENTERPRISE
    )
    assert applied == {"name": "Jaksel"}
    assert created.name == "Jaksel"


def test_mutable_fields_change():
    created = setting()
    created.update(
        {"auto_sync": False, "sync_time": "06:15", "payment_accounts": {"edc": {"account": "1-2"}}},
        JurnalPackage.ENTERPRISE,
    )
    assert created.auto_sync is False
    assert created.sync_time == time(6, 15)
    assert created.payment_accounts == {"edc": PaymentAccount("1-2")}


def test_an_unknown_field_is_refused():
    with pytest.raises(SettingInvalid, match="colour is not a setting field"):
        setting().update({"colour": "red"}, JurnalPackage.ENTERPRISE)


@pytest.mark.parametrize("package", ["Pro", "Enterprise"])
def test_a_tag_needs_pro_or_enterprise(package):
    assert setting(company(package), tag="Jaksel").tag == "Jaksel"


def test_a_tag_on_basic_is_refused_naming_the_plan():
    with pytest.raises(PlanRequired) as refused:
        setting(company("Basic"), tag="Jaksel")
    assert refused.value.fields == {
        "tag": "needs Jurnal Pro or Enterprise; this company's package is Basic"
    }


def test_a_payment_tag_on_basic_is_refused():
    with pytest.raises(PlanRequired) as refused:
        setting(company("Basic"), payment_accounts={"cash": {"account": "1", "tag": "T"}})
    assert list(refused.value.fields) == ["payment_accounts.cash.tag"]


def test_a_warehouse_needs_enterprise():
    assert setting(company("Enterprise"), warehouse="Gudang").warehouse == "Gudang"
    with pytest.raises(PlanRequired, match=r"warehouse needs Jurnal Enterprise; .* is Pro"):
        setting(company("Pro"), warehouse="Gudang")


def test_an_update_checks_the_plan_of_changed_fields_only():
    created = setting(company("Enterprise"), warehouse="Gudang")
    created.update({"name": "Renamed"}, JurnalPackage.BASIC)
    assert created.name == "Renamed"
    with pytest.raises(PlanRequired):
        created.update({"warehouse": "Gudang 2"}, JurnalPackage.PRO)


def test_a_company_holds_at_most_its_quota_of_settings():
    owner = company(quota=1)
    setting(owner)
    with pytest.raises(QuotaExceeded, match="quota of 1 setting"):
        setting(owner)
    owner.set_quota(2)
    setting(owner)
    assert len(owner.setting_ids) == 2


def test_removing_a_setting_frees_its_place():
    owner = company(quota=1)
    first = setting(owner)
    owner.remove_setting(first.id)
    setting(owner)
    assert len(owner.setting_ids) == 1


def test_a_quota_must_be_a_whole_number():
    with pytest.raises(CompanyInvalid):
        company().set_quota(-1)
    with pytest.raises(CompanyInvalid):
        company(quota=True)


def test_a_deleted_setting_takes_no_more_commands():
    created = setting()
    created.delete()
    assert created.deleted
    with pytest.raises(SettingNotFound, match="was deleted"):
        created.update({"name": "x"}, JurnalPackage.ENTERPRISE)
    with pytest.raises(SettingNotFound):
        created.delete()


def test_transactions_wait_for_a_master_data_sync():
    created = setting()
    with pytest.raises(MasterDataNotSynced, match="sync master data first"):
        created.require_master_data_synced()
    first = datetime(2024, 5, 2, tzinfo=UTC)
    created.record_master_data_synced(first)
    created.record_master_data_synced(datetime(2024, 6, 1, tzinfo=UTC))
    created.require_master_data_synced()
    assert created.master_data_synced_at == first


@pytest.mark.parametrize(
    ("start", "floor"),
    [
        (date(2024, 5, 15), date(2024, 4, 15)),
        (date(2024, 3, 31), date(2024, 2, 29)),
        (date(2023, 3, 31), date(2023, 2, 28)),
        (date(2024, 1, 10), date(2023, 12, 10)),
    ],
)
def test_transactions_sync_from_one_calendar_month_before_the_start_date(start, floor):
    assert one_month_before(start) == floor
    assert setting(start_date=start).transactions_from == floor


@pytest.mark.parametrize(
    ("jurnal", "package"),
    [
        ("Trial Enterprise", JurnalPackage.ENTERPRISE),
        ("pro", JurnalPackage.PRO),
        ("Starter", JurnalPackage.BASIC),
    ],
)
def test_the_package_is_read_from_jurnal(jurnal, package):
    assert JurnalPackage.from_jurnal(jurnal) is package


def test_an_unknown_package_is_refused():
    with pytest.raises(CompanyInvalid, match="package must be one of Basic, Pro, Enterprise"):
        company("Gold")


def test_connecting_the_same_business_twice_gives_the_same_connection_id():
    owner = company()
    assert connection(owner).id == connection(owner).id
    assert connection(owner).id != connection(company()).id


def test_a_moka_connection_needs_an_email_and_a_business():
    with pytest.raises(MokaConnectionInvalid) as refused:
        MokaConnection.connect(
            company_id=company().id,
            email="nobody",
            business_id="",
            outlets={},
            access_token=SEALED,
            refresh_token=SEALED,
        )
    assert set(refused.value.fields) == {"email", "business_id"}


def test_no_secret_shows_in_a_repr():
    owner = company()
    linked = connection(owner)
    for text in (repr(owner), repr(linked), str(SEALED)):
        assert "ciphertext" not in text
    assert "key_id='k1'" in repr(linked)
