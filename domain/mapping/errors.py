"""Why a Moka record cannot become Jurnal documents: typed errors whose messages a merchant can act
on. The mapping raises them instead of ever producing a body that Jurnal would total wrongly.

- `InconsistentPayment`: Moka's own totals disagree with its rows; the sale must be corrected in
  Moka (or the data is damaged) before it can be posted.
- `NotExpressible`: the sale is consistent, but no Jurnal invoice (or return) totals to it exactly.
- `MissingReference`: a Jurnal customer, product, tax or account the documents need is not there
  (yet): sync master data, or change the setting.
- `UnsupportedPayment`: a shape the mapping does not handle (a sale line with a negative quantity).
"""

from __future__ import annotations


class MappingError(Exception):
    """A Moka record that cannot be mapped. `message` is written for the merchant."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InconsistentPayment(MappingError):
    """The payment's header totals disagree with its lines or rows (reference §9.2)."""

    def __init__(self, receipt: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"Moka receipt {receipt} does not add up, so it is not posted: "
            + "; ".join(problems)
            + ". Correct the sale in Moka (or refund and ring it up again), then sync again."
        )


class NotExpressible(MappingError):
    """No Jurnal document reproduces Moka's total and tax to the rupiah."""


class RefundNotExpressible(NotExpressible):
    """A refund whose sales return cannot total Moka's refund to the rupiah."""


class EarlierRefundFailed(RefundNotExpressible):
    """A refund after one that failed: what it returns depends on what was returned before."""

    def __init__(self, receipt: str, earlier: str) -> None:
        super().__init__(
            f"An earlier refund of Moka receipt {receipt} ({earlier}) could not be posted, and "
            "this later refund of the same sale depends on what that one returned; post the "
            "earlier refund by hand in Jurnal first, then post this one by hand too."
        )


class UnsupportedPayment(MappingError):
    """A payment shape the mapping does not handle."""


class BeforeSyncWindow(MappingError):
    """A sale dated before the setting's first synced day (a month before its start date)."""

    def __init__(self, receipt: str, sold_on: str, first_day: str) -> None:
        super().__init__(
            f"Moka receipt {receipt} is dated {sold_on}, before {first_day}, the first day this "
            "setting syncs (one month before its start date); it is not posted."
        )


class MissingReference(MappingError):
    """Something the documents refer to is missing in Jurnal or in the setting."""


class CustomerNotSynced(MissingReference):
    def __init__(self, customer_id: int, name: str) -> None:
        self.customer_id = customer_id
        super().__init__(
            f"Moka customer {name!r} (id {customer_id}) is not in Jurnal yet; "
            "run the master-data sync, then sync transactions again."
        )


class ProductNotSynced(MissingReference):
    def __init__(self, product_name: str, moka_ref: str) -> None:
        self.product_name = product_name
        super().__init__(
            f"Product {product_name!r} ({moka_ref}) is not in Jurnal; it was probably deleted in "
            "Moka before it was synced. Turn on 'sync transactions by product name' in the "
            f"setting and create a product named {product_name!r} in Jurnal, or run the "
            "master-data sync if the product still exists in Moka."
        )


class TaxNotInJurnal(MissingReference):
    def __init__(self, tax_name: str, rate: str) -> None:
        self.tax_name = tax_name
        super().__init__(
            f"Jurnal has no tax named {tax_name!r} ({rate}%); run the master-data sync, "
            "or create that tax in Jurnal with that rate."
        )


class TaxRateMismatch(MissingReference):
    def __init__(self, tax_name: str, jurnal_rate: str, moka_rate: str) -> None:
        self.tax_name = tax_name
        super().__init__(
            f"Tax {tax_name!r} is {jurnal_rate}% in Jurnal but {moka_rate}% in Moka; "
            "change the rate in Jurnal to match Moka, then sync again."
        )


class PaymentAccountMissing(MissingReference):
    def __init__(self, bucket_label: str, payment_label: str) -> None:
        self.bucket_label = bucket_label
        super().__init__(
            f"The setting has no deposit account for {bucket_label!r} (Moka payment "
            f"{payment_label!r}); choose one under payment-method mapping, then sync again."
        )


class AccountNotInJurnal(MissingReference):
    def __init__(self, what: str, reference: str | None) -> None:
        self.reference = reference
        named = f"account {reference!r}" if reference else "default account"
        super().__init__(
            f"The {what} ({named}) is not in this Jurnal company's chart of accounts; choose an "
            "existing account in the setting, then sync again."
        )
