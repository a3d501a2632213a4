"""What the pipeline's billing rollup is, for everyone who reads it.

The billing line items are reduced once per run (``costscan.scanner.pipeline.billing_rollup``
builds it) to a rollup per key tuple and UTC day; the billing policies, the spend block, the
top resources and billed prices read this instead of the line items. This module is the
contract between the builder and its readers: the rollup's frames (schemas in
``schema.BILLING_DAILY``, ``BILLING_IRREGULAR_STARTS``, ``BILLING_COMMITMENTS``), how its
hour masks are encoded, ``BillingSource``, the read export files a provider hands over
(with an account of every file and row), and the exchange rates a run converts with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from costscan.scanner.contracts import schema

HOUR_US: Final = 3_600_000_000
DAY_US: Final = 24 * HOUR_US


@dataclass(frozen=True)
class FileRead:
    """One billing file as read: its rows, and why any of them were left out."""

    path: str
    format: str  # what it was read as: "focus-1.2", "cur", "azure", ...
    rows_read: int
    rows_rejected: int
    # (reason, rows) per reason; a row with two unreadable cells counts under each reason
    # and once in ``rows_rejected``.
    rejected_by_reason: tuple[tuple[str, int], ...] = ()
    # The rows used, conformed to schema.BILLING (the part of ``BillingSource.scan`` that
    # came from this file).
    scan: pl.LazyFrame | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SkippedFile:
    """A file under a billing folder that was not read, and why (an earlier version of a
    month that a manifest no longer lists, AWS's Athena status table, ...)."""

    path: str
    reason: str


@dataclass
class BillingSource:
    """A lazily read set of billing files, conformed to ``schema.BILLING``."""

    scan: pl.LazyFrame
    rejections: list[schema.Rejection]
    source_format: str  # focus | cur | cur2 | gcp | azure | oci, or "mixed"
    files: list[str]
    # file -> what it was read as ("focus-1.2", "cur", ...), for the run's log
    file_formats: dict[str, str] = field(default_factory=dict)
    # Every file read, in ``files`` order, with its rows (the report's row account).
    reads: list[FileRead] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    # What the reader had to decide for the user (several versions of a month and no
    # manifest, ...): one line each, shown in the report.
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- currencies

# The currency every conversion goes to, and that cloud list prices are in.
BASE_CURRENCY: Final = "USD"

# ISO 4217 active currency codes (list one, https://www.six-group.com/en/products-services/
# financial-information/data-standards.html), less the funds and precious-metal codes no
# bill is written in. A --fx rate for any other code is a typo.
ISO_4217: Final = frozenset(
    (
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VED",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XCG",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
    )
)


def parse_rates(values: Sequence[str], flag: str = "--fx") -> dict[str, float]:
    """``CODE=RATE`` texts (1 CODE = RATE USD) as a mapping; ValueError with one line
    naming the flag and the bad value otherwise."""
    rates: dict[str, float] = {}
    for value in values:
        code, sep, number = value.partition("=")
        code = code.strip().upper()
        if not sep:
            raise ValueError(f"{flag} {value!r}: give CODE=RATE, e.g. CAD=0.73 (USD per 1 CAD)")
        if code not in ISO_4217:
            raise ValueError(f"{flag} {value!r}: {code!r} is not an ISO 4217 currency code")
        if code == BASE_CURRENCY:
            raise ValueError(f"{flag} {value!r}: rates convert into USD; USD needs none")
        try:
            rate = float(number.strip())
        except ValueError:
            raise ValueError(f"{flag} {value!r}: {number.strip()!r} is not a number") from None
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"{flag} {value!r}: the rate must be a positive, finite number")
        if code in rates and rates[code] != rate:
            raise ValueError(f"{flag}: two rates for {code} ({rates[code]:g} and {rate:g})")
        rates[code] = rate
    return rates


def report_currency(line_items: Mapping[str, int]) -> str:
    """The currency a report with billing in ``line_items`` (currency -> line items, after
    conversion) is written in: the only one; else USD when present (cloud list prices
    are USD); else the one with the most line items (ties by code)."""
    if not line_items:
        return BASE_CURRENCY
    if len(line_items) == 1 or BASE_CURRENCY not in line_items:
        return min(line_items, key=lambda code: (-line_items[code], code))
    return BASE_CURRENCY


def start_us() -> pl.Expr:
    """ChargePeriodStart in microseconds since the epoch (null stays null)."""
    return pl.col("ChargePeriodStart").dt.epoch("us")


def hour_bit(micros: pl.Expr) -> pl.Expr:
    """Bit h (h = 0..23) set for a start (µs since the epoch) in the hour h of its UTC day:
    the unit of the rollup's ``hour_mask``."""
    return pl.lit(2, dtype=pl.UInt32).pow((micros // HOUR_US % 24).cast(pl.UInt32))


def earliest(column: str, *, ignore_nulls: bool = False) -> pl.Expr:
    """Inside an aggregation over rollup rows (daily or commitments): ``column`` of the
    earliest charge, the rollup's stand-in for ``first()`` over the line items.
    ``charge_order`` numbers the rows by first charge, then by the position of their first
    line item in the export, so this is one pass per group, not a sort, and ties fall in
    file order."""
    order = pl.col("charge_order")
    if ignore_nulls:
        order = pl.when(pl.col(column).is_not_null()).then(order)
    return pl.col(column).min_by(order)


@dataclass(frozen=True)
class BillingRollup:
    """``daily`` (schema.BILLING_DAILY), ``irregular_starts`` (schema.
    BILLING_IRREGULAR_STARTS), ``commitments`` (schema.BILLING_COMMITMENTS) and the spend
    totals of one billing frame.

    Money in ``daily`` and ``commitments`` is in each row's ``BillingCurrency``, after the
    run's rates (``rates``: 1 unit = rate USD) converted what they could into USD; nothing
    here ever adds two currencies. ``spend`` is the report currency's totals
    (``report_currency``); ``spend_by_currency`` the totals of every currency the files
    bill in, before conversion.
    """

    daily: pl.DataFrame
    irregular_starts: pl.DataFrame
    commitments: pl.DataFrame
    spend: dict[str, Any]
    # original currency -> billed_cost, effective_cost, line_items, period_start, period_end
    spend_by_currency: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the rates that converted something in this rollup (currency -> USD per unit)
    rates: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def empty() -> BillingRollup:
        """The rollup of no line items at all."""
        return BillingRollup(
            daily=schema.empty(schema.BILLING_DAILY),
            irregular_starts=schema.empty(schema.BILLING_IRREGULAR_STARTS),
            commitments=schema.empty(schema.BILLING_COMMITMENTS),
            spend={
                "billed_cost": 0.0,
                "effective_cost": 0.0,
                "period_start": None,
                "period_end": None,
                "currency": None,
            },
        )

    def line_items_by_currency(self) -> dict[str, int]:
        """Currency (after conversion) -> line items billed in it."""
        per = self.daily.group_by("BillingCurrency").agg(pl.col("line_items").sum())
        return {
            str(code): int(n) for code, n in per.iter_rows() if code is not None and n is not None
        }

    def currency(self) -> str:
        """The report currency of this rollup (``report_currency``)."""
        return report_currency(self.line_items_by_currency())

    def only(self, currency: str) -> BillingRollup:
        """The part of this rollup billed in ``currency`` (after conversion)."""
        daily = self.daily.filter(pl.col("BillingCurrency") == currency)
        irregular = self.irregular_starts.join(
            daily.select("group_key").unique(), on="group_key", how="semi"
        )
        commitments = self.commitments.filter(pl.col("BillingCurrency") == currency)
        spend = {
            "billed_cost": float(daily["billed_cost"].sum() or 0.0),
            "effective_cost": float(daily["effective_cost"].sum() or 0.0),
            "period_start": _iso(daily["first_start"].min()),
            "period_end": _iso(daily["last_end"].max()),
            "currency": currency,
        }
        return BillingRollup(daily, irregular, commitments, spend, {}, dict(self.rates))

    def accounts(self) -> list[str]:
        """Every account the line items name (SubAccountId, else BillingAccountId)."""
        column = pl.coalesce("SubAccountId", "BillingAccountId")
        return sorted(self.daily.select(column.drop_nulls().unique()).to_series().to_list())

    def regions(self) -> list[str]:
        return sorted(self.daily["RegionId"].drop_nulls().unique().to_list())

    def top_resources(self, limit: int = 10) -> list[dict[str, Any]]:
        """The ``limit`` resources with the highest effective cost (context, not findings).

        Each item: resource_id, resource_name, service, account (SubAccountId, else
        BillingAccountId), billed_cost, effective_cost; most expensive first (ties by
        billed cost, then resource id). Names are those of the earliest charge that has
        one. Line items without a ResourceId (taxes, support, credits at account level)
        belong to no resource and are left out.
        """
        if limit <= 0:
            return []
        top = (
            self.daily.lazy()
            .filter(pl.col("ResourceId").is_not_null())
            .group_by("ResourceId")
            .agg(
                pl.col("billed_cost").sum(),
                pl.col("effective_cost").sum(),
                earliest("ResourceName", ignore_nulls=True).alias("resource_name"),
                earliest("ServiceName", ignore_nulls=True).alias("service"),
                earliest("SubAccountId", ignore_nulls=True).alias("_sub_account"),
                earliest("BillingAccountId", ignore_nulls=True).alias("_billing_account"),
            )
            .sort(
                ["effective_cost", "billed_cost", "ResourceId"],
                descending=[True, True, False],
                nulls_last=True,
            )
            .head(limit)
            .select(
                pl.col("ResourceId").alias("resource_id"),
                "resource_name",
                "service",
                pl.coalesce("_sub_account", "_billing_account").alias("account"),
                pl.col("billed_cost").fill_null(0.0),
                pl.col("effective_cost").fill_null(0.0),
            )
            .collect()
        )
        return list(top.iter_rows(named=True))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
