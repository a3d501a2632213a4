"""The billing line items reduced once per run, for everything that reads billing data.

Billing exports run to tens of millions of line items. The billing policies, the spend
block and the top resources each used to group them on their own; now the line items are
read twice in all, and everything else works on the result (``schema.BILLING_DAILY``, a
few hundred thousand rows at 10M line items):

1. One streaming pass groups the line items per key tuple (``schema.BILLING_ROLLUP_KEYS``)
   and UTC day of ChargePeriodStart. It does not group by the 16 key strings: hashing a
   string is cheap, grouping by many string columns is not (each is encoded per row). The
   group key is a 64-bit fingerprint of the strings and the day (``_day_sums``). Per group the pass
   keeps the row number of the group's first line item. Three small results come from
   the same read: the spend totals, the charge starts the hour mask cannot hold, and the
   commitments' line items per commitment and status.
2. A second pass reads the key strings of those first rows only (one per key tuple, by
   row number) and joins them back. It reads only the ranges of rows that hold them
   (``_row_ranges``): the first day of the export, mostly.

Why the figures are exact:

- sums, counts, minima and maxima of a day-level group add up to those of any coarser
  group (cost, quantity, line items, first and last charge, longest charge period);
- distinct ChargePeriodStart values are the one figure that does not add up across
  groups. Each group keeps a 24-bit mask of the hours of the day its hour-aligned starts
  fall on: OR-ing the masks of a coarser group per day and counting the bits gives its
  distinct aligned starts exactly. Starts that are not on the hour (or null) are rare and
  kept as they are (``schema.BILLING_IRREGULAR_STARTS``); they never equal an aligned
  start, so the two counts add up (``distinct_starts`` in policies/_billing.py);
- the spend totals are summed over the line items themselves, per currency, so they are
  exact to the last digit a float holds, not a sum of sums.

Currencies. ``BillingCurrency`` is one of the keys, so no sum in the rollup adds two
currencies. With the run's exchange rates (``--fx CAD=0.73``: 1 CAD = 0.73 USD) the
money columns of line items in a converted currency are multiplied by its rate as they
are read, and their currency becomes USD; the spend per currency is kept before
conversion too, so the report shows what each file billed and what it became.

Stage 1's four results are separate scans (they share no plan), which costs little over
Parquet, the one format they read: text exports are staged as Parquet first
(providers/exports/read.py).

Memory. The day sums are built in parts (``_day_sums_in_parts``): at most ``PART_ROWS``
line items at a time, each file on its own, each part grouped per cell, and the part's
sums folded into the running total at once (sums add, minima and maxima take the least
and the greatest, hour masks OR, the first row number is the least). So the largest
thing held is the total, one row per key tuple and day, plus one part's group-by: peak
memory follows resources x days, not line items. Built over the whole export in one
streaming group-by, the whole run grew with the rows (1.3 GB at 5 million rows, 1.9 GB
at 20 million, 2.6 GB at 40 million on benchmarks/billing_memory.py's 50,000 resources
over one month): the group-by's state is several times the groups it returns, a longer
export holds more groups in one pass, and what the allocator kept from it stayed
resident under the next step. In parts: 1.0, 1.35 and 1.5 GB, and 1.5 GB at 100
million. A cell split across parts or files is summed from its pieces, which differ from
one sum over its line items only in the last bits of a float (far below a cent;
tests/scanner/test_billing_rollup_parts.py holds the parts to the whole).
The other three stage-1 results hold a few rows per commitment and currency (and the
rare irregular starts), so they are read whole; the spend totals stay one sum over the
line items.

Two different key tuples merge only if their 64-bit fingerprints collide: with n distinct
tuples the odds are about n^2 / 2^65 (1e-12 for 6,000 tuples, 3e-8 for a million).

The row number is polars' 32-bit row index: an export of more than 4.29 billion line
items in one run is out of reach.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing import (
    BASE_CURRENCY,
    DAY_US,
    HOUR_US,
    BillingRollup,
    BillingSource,
    hour_bit,
    report_currency,
    start_us,
)
from costscan.scanner.contracts.errors import InputFileError
from costscan.scanner.contracts.inventory import Inventory

ROLLUP_KEYS: Final = schema.BILLING_ROLLUP_KEYS
# Odd, so two tuples that differ in a single key never get the same fingerprint.
_FINGERPRINT_MULTIPLIER: Final = 0x9E3779B97F4A7C15
_ROW: Final = "_row"
# The day index of line items without a ChargePeriodStart: 2^40 days after 1970.
_NO_DAY: Final = 1 << 40


def irregular_start() -> pl.Expr:
    """True where ChargePeriodStart is null or not on the hour (the mask cannot hold it)."""
    return (start_us() % HOUR_US != 0).fill_null(True)


def group_key() -> pl.Expr:
    """Per line item, a polynomial over the hashes of its key strings (a null hashes to
    its own value), wrapping at 64 bits."""
    folded = pl.lit(0, dtype=pl.UInt64)
    for key in ROLLUP_KEYS:
        folded = folded * pl.lit(_FINGERPRINT_MULTIPLIER, dtype=pl.UInt64) + pl.col(key).hash()
    return folded.alias("group_key")


MONEY_COLUMNS: Final = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def spend_query(billing: pl.LazyFrame) -> pl.LazyFrame:
    """Billed and effective cost over every line item, the period they cover and the line
    items, per BillingCurrency (one row per currency, before any conversion)."""
    return billing.group_by("BillingCurrency").agg(
        pl.col("BilledCost").sum().alias("billed_cost"),
        pl.col("EffectiveCost").sum().alias("effective_cost"),
        pl.len().alias("line_items"),
        pl.col("ChargePeriodStart").min().alias("period_start"),
        pl.max_horizontal(pl.col("ChargePeriodEnd").max(), pl.col("ChargePeriodStart").max()).alias(
            "period_end"
        ),
    )


def converted(billing: pl.LazyFrame, rates: Mapping[str, float]) -> pl.LazyFrame:
    """``billing`` with the money of every currency in ``rates`` in USD (x its rate), and
    that currency then USD; other line items as they are."""
    if not rates:
        return billing
    codes = list(rates)
    factor = pl.col("BillingCurrency").replace_strict(
        codes, [rates[c] for c in codes], default=1.0, return_dtype=pl.Float64
    )
    return billing.with_columns(
        *[(pl.col(c) * factor).alias(c) for c in MONEY_COLUMNS],
        pl.when(pl.col("BillingCurrency").is_in(codes))
        .then(pl.lit(BASE_CURRENCY))
        .otherwise(pl.col("BillingCurrency"))
        .alias("BillingCurrency"),
    )


def spend_from(totals: pl.DataFrame, rates: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The report's spend block from ``spend_query``'s collected rows: the totals of the
    report currency (``report_currency``), after ``rates``."""
    by_currency = spend_by_currency(totals)
    after: dict[str, dict[str, Any]] = {}
    for code, figures in by_currency.items():
        rate = (rates or {}).get(code)
        target = BASE_CURRENCY if rate is not None else code
        into = after.setdefault(
            target,
            {"billed_cost": 0.0, "effective_cost": 0.0, "line_items": 0, "starts": [], "ends": []},
        )
        into["billed_cost"] += figures["billed_cost"] * (rate or 1.0)
        into["effective_cost"] += figures["effective_cost"] * (rate or 1.0)
        into["line_items"] += figures["line_items"]
        into["starts"].append(figures["period_start"])
        into["ends"].append(figures["period_end"])
    if not after:
        return BillingRollup.empty().spend
    currency = report_currency({code: f["line_items"] for code, f in after.items()})
    chosen = after[currency]
    starts = [s for s in chosen["starts"] if s is not None]
    ends = [e for e in chosen["ends"] if e is not None]
    return {
        "billed_cost": chosen["billed_cost"],
        "effective_cost": chosen["effective_cost"],
        "period_start": min(starts) if starts else None,
        "period_end": max(ends) if ends else None,
        "currency": currency,
    }


def spend_by_currency(totals: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Currency -> its totals, as ``spend_query`` collected them (no conversion)."""
    out: dict[str, dict[str, Any]] = {}
    for row in totals.sort("BillingCurrency", nulls_last=True).iter_rows(named=True):
        code = row["BillingCurrency"] or BASE_CURRENCY
        out[code] = {
            "billed_cost": float(row["billed_cost"] or 0.0),
            "effective_cost": float(row["effective_cost"] or 0.0),
            "line_items": int(row["line_items"] or 0),
            "period_start": row["period_start"].isoformat() if row["period_start"] else None,
            "period_end": row["period_end"].isoformat() if row["period_end"] else None,
        }
    return out


# Line items per part of the day sums (module docstring, "Memory"): eight of the
# benchmark's 250,000-row Parquet row groups. Peak memory rises with it (each part's
# group-by holds its cells); more, smaller parts cost a fold of the total each.
PART_ROWS: Final = 2_000_000

# The second read visits at most this many ranges of rows.
_MAX_RANGES: Final = 64
_MIN_RANGE_ROWS: Final = 65_536


def _row_ranges(rows: pl.Series, total_rows: int) -> list[tuple[int, int]]:
    """(offset, length) ranges of line items that hold every row number in ``rows``.

    The line items are cut into at most ``_MAX_RANGES`` equal blocks; the blocks holding a
    wanted row are read, adjacent ones as one range. A key tuple's first line item is
    usually in the export's first day, so the second read is mostly the first block; the
    Parquet reader skips the row groups outside the ranges.
    """
    if rows.is_empty() or total_rows <= 0:
        return []
    block = max(_MIN_RANGE_ROWS, -(-total_rows // _MAX_RANGES))
    ranges: list[list[int]] = []
    for index in (rows // block).unique().sort().to_list():
        if ranges and ranges[-1][1] == index:
            ranges[-1][1] = index + 1
        else:
            ranges.append([index, index + 1])
    return [(start * block, (end - start) * block) for start, end in ranges]


def _in_pieces(heights: Sequence[int], offset: int, length: int) -> list[tuple[int, int, int, int]]:
    """The rows ``offset`` to ``offset + length`` of pieces of ``heights`` rows laid end to
    end, as (piece, start in it, rows, row number of the first): one per piece they touch."""
    found = []
    base = 0
    for index, height in enumerate(heights):
        low, high = max(offset, base), min(offset + length, base + height)
        if low < high:
            found.append((index, low - base, high - low, low))
        base += height
    return found


def _day_sums(indexed: pl.LazyFrame, *, by_pair: bool) -> pl.LazyFrame:
    """Stage 1's group-by: the line items (with their row numbers) summed per key tuple and
    day, with ``group_key`` and ``day_index`` as columns.

    Grouping by one 64-bit column is cheaper than by two, so the tuple's fingerprint and
    the day are folded into one ``_cell`` (multiplying by an odd number is a bijection, so
    two cells of one tuple, or one day, never meet). Cells of different tuples and days
    could still meet, by chance (about 2^-64 per pair); each cell keeps the least and the
    greatest fingerprint it holds, so the caller sees it and groups ``by_pair`` instead.
    """
    start = start_us()
    day_index = start // DAY_US
    sums = [
        pl.coalesce("EffectiveCost", "BilledCost").sum().alias("cost"),
        pl.col("EffectiveCost").sum().alias("effective_cost"),
        pl.col("BilledCost").sum().alias("billed_cost"),
        pl.coalesce("ConsumedQuantity", "PricingQuantity").sum().alias("quantity"),
        pl.len().alias("line_items"),
        pl.col("ChargePeriodStart").min().alias("first_start"),
        pl.col("ChargePeriodEnd").max().alias("last_end"),
        (pl.col("ChargePeriodEnd") - pl.col("ChargePeriodStart")).max().alias("period_length"),
        # OR with 0 changes nothing: irregular starts leave the mask alone (a plain
        # expression aggregates on polars' fast path, a filtered one does not).
        pl.when(irregular_start())
        .then(pl.lit(0, dtype=pl.UInt32))
        .otherwise(hour_bit(start))
        .bitwise_or()
        .alias("hour_mask"),
        pl.col(_ROW).min(),
    ]
    hashed = indexed.with_columns(group_key())
    if by_pair:
        return hashed.group_by("group_key", day_index.alias("day_index")).agg(*sums)
    # Line items without a start share one cell per tuple, on a day no timestamp reaches.
    day_bits = day_index.fill_null(_NO_DAY).reinterpret(signed=False)
    cell = pl.col("group_key") * pl.lit(_FINGERPRINT_MULTIPLIER, dtype=pl.UInt64) + day_bits
    return (
        hashed.group_by(cell.alias("_cell"))
        .agg(
            *sums,
            pl.col("group_key").min(),
            pl.col("group_key").max().alias("_group_key_max"),
        )
        .with_columns((pl.col("first_start").dt.epoch("us") // DAY_US).alias("day_index"))
    )


_SUMMED: Final = ("cost", "effective_cost", "billed_cost", "quantity", "line_items")


def _folded(parts: pl.DataFrame, *, by_pair: bool) -> pl.DataFrame:
    """Day sums of several parts (``_day_sums``' columns, a cell in more than one row)
    as one row per cell: what ``_day_sums`` gives over the parts' line items at once."""
    figures = [
        *[pl.col(c).sum() for c in _SUMMED],
        pl.col("first_start").min(),
        pl.col("last_end").max(),
        pl.col("period_length").max(),
        pl.col("hour_mask").bitwise_or(),
        pl.col(_ROW).min(),
    ]
    if by_pair:
        return parts.group_by("group_key", "day_index").agg(figures).select(parts.columns)
    return (
        parts.group_by("_cell")
        .agg(*figures, pl.col("group_key").min(), pl.col("_group_key_max").max())
        .with_columns((pl.col("first_start").dt.epoch("us") // DAY_US).alias("day_index"))
        .select(parts.columns)
    )


def _day_sums_in_parts(
    pieces: Sequence[pl.LazyFrame],
    *,
    by_pair: bool,
    part_rows: int,
    engine: Any,
    optimizations: pl.QueryOptFlags,
) -> pl.DataFrame:
    """``_day_sums`` over the line items of ``pieces`` (one after the other, row numbers
    running on), read ``part_rows`` at a time and folded into a running total.

    Each piece (a file) is sliced on its own: a slice of one Parquet scan reads only the
    row groups it covers, where a slice of several files' concatenation may read the
    files before it again. The total is folded after every part, never at the end, so
    it stays one row per cell however many parts there are.
    """
    total: pl.DataFrame | None = None
    offset = 0
    for piece in pieces:
        height = int(piece.select(pl.len()).collect().item())
        for start in range(0, height, part_rows):
            part = piece.slice(start, part_rows).with_row_index(_ROW, offset=offset + start)
            sums = _day_sums(part, by_pair=by_pair).collect(
                engine=engine, optimizations=optimizations
            )
            total = sums if total is None else _folded(pl.concat([total, sums]), by_pair=by_pair)
        offset += height
    if total is None:
        empty = pieces[0].clear() if pieces else schema.empty_lazy(schema.BILLING)
        return _day_sums(empty.with_row_index(_ROW), by_pair=by_pair).collect()
    return total


def build(
    billing: pl.LazyFrame,
    *,
    streaming: bool = True,
    rates: Mapping[str, float] | None = None,
    pieces: Sequence[pl.LazyFrame] | None = None,
    part_rows: int | None = None,
) -> BillingRollup:
    """Reduce ``billing`` (line items in schema.BILLING) to its rollup, reading it twice.

    ``streaming`` runs polars' streaming engine, which keeps memory flat over large scans;
    the scans are collected without common-subplan elimination, which would hold every
    column of the export in memory to share one read. ``rates`` converts currencies into
    USD (module docstring). ``pieces``, when given, are the frames ``billing`` concatenates
    (one per file, in its order): the day sums slice each on its own. ``part_rows``
    (default ``PART_ROWS``) is the line items per part of the day sums.
    """
    engine: Any = "streaming" if streaming else "auto"
    optimizations = pl.QueryOptFlags(comm_subplan_elim=False)
    raw = billing
    billing = converted(raw, rates or {})
    parts_of = [converted(p, rates or {}) for p in pieces] if pieces else [billing]
    rows_per_part = max(1, part_rows if part_rows is not None else PART_ROWS)
    irregular = billing.filter(irregular_start()).select(group_key(), "ChargePeriodStart").unique()
    irregular_frame, commitments, totals = pl.collect_all(
        [irregular, _commitments(billing), spend_query(raw)],
        engine=engine,
        optimizations=optimizations,
    )
    sums_frame = _day_sums_in_parts(
        parts_of,
        by_pair=False,
        part_rows=rows_per_part,
        engine=engine,
        optimizations=optimizations,
    )
    if (sums_frame["group_key"] != sums_frame["_group_key_max"]).any():
        sums_frame = _day_sums_in_parts(
            parts_of,
            by_pair=True,
            part_rows=rows_per_part,
            engine=engine,
            optimizations=optimizations,
        )
    first_rows = sums_frame.group_by("group_key").agg(pl.col(_ROW).min())[_ROW]
    total_rows = int(sums_frame["line_items"].sum() or 0)
    # Put in charge order before the key strings join: sorting the narrow day sums copies
    # a few columns, sorting the joined frame would copy its sixteen strings per row too.
    # Rebinding lets the unsorted sums go before the join allocates the daily frame.
    sums_frame = sums_frame.drop("_cell", "_group_key_max", strict=False).sort(
        "first_start", _ROW, nulls_last=True
    )
    # Each range is read from the files it covers: a slice of the files' concatenation
    # would read every file before it again (polars slices a union after reading it).
    heights = (
        [int(p.select(pl.len()).collect().item()) for p in parts_of]
        if len(parts_of) > 1
        else [total_rows]
    )
    names = pl.concat(
        [
            parts_of[index]
            .slice(start, rows)
            .with_row_index(_ROW, offset=first)
            .filter(pl.col(_ROW).is_in(first_rows.implode()))
            .select(group_key(), *ROLLUP_KEYS)
            for offset, length in _row_ranges(first_rows, total_rows)
            for index, start, rows, first in _in_pieces(heights, offset, length)
        ]
        or [billing.select(group_key(), *ROLLUP_KEYS).clear()],
        how="vertical",
    ).collect(engine=engine, optimizations=optimizations)
    if names.height != first_rows.len():
        # Every key tuple's first line item must come back, or its spend would vanish.
        raise pl.exceptions.ComputeError(
            f"billing rollup: {first_rows.len() - names.height} of {first_rows.len()} key "
            "tuples were not found again in the second read"
        )
    daily = sums_frame.join(names, on="group_key", how="inner", maintain_order="left").with_columns(
        (pl.col("day_index") * DAY_US).cast(schema.UTC_TS).alias("day")
    )
    return BillingRollup(
        daily=_numbered(daily, schema.BILLING_DAILY),
        irregular_starts=_conformed(irregular_frame, schema.BILLING_IRREGULAR_STARTS),
        commitments=_in_charge_order(
            commitments,
            schema.BILLING_COMMITMENTS,
            "CommitmentDiscountId",
            "CommitmentDiscountStatus",
        ),
        spend=spend_from(totals, rates),
        spend_by_currency=spend_by_currency(totals),
        rates={
            code: rate
            for code, rate in (rates or {}).items()
            if code in set(totals["BillingCurrency"].drop_nulls().to_list())
        },
    )


def _conformed(frame: pl.DataFrame, columns: schema.Schema) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(t) for c, t in columns.items())


def _in_charge_order(frame: pl.DataFrame, columns: schema.Schema, *ties: str) -> pl.DataFrame:
    """``frame`` numbered by first charge, then by ``ties`` (unique per row; rows without
    a ChargePeriodStart sort last), as ``columns``."""
    return _numbered(frame.sort("first_start", *ties, nulls_last=True), columns)


def _numbered(ordered: pl.DataFrame, columns: schema.Schema) -> pl.DataFrame:
    """``ordered`` (already in charge order) with its ``charge_order``, as ``columns``."""
    numbered = ordered.with_row_index("charge_order").with_columns(
        pl.col("charge_order").cast(pl.Int64)
    )
    return _conformed(numbered, columns)


_COMMITMENT_DESCRIPTIONS: Final = (
    "CommitmentDiscountType",
    "CommitmentDiscountCategory",
    "ProviderName",
    "SubAccountId",
    "BillingAccountId",
    "RegionId",
    "BillingCurrency",
)


def _commitments(billing: pl.LazyFrame) -> pl.LazyFrame:
    """Line items with a CommitmentDiscountId summed per commitment and status (a few
    percent of an export, filtered before the other columns are decoded). Descriptive
    columns: the first non-null value in the export's order, which polars' group-by keeps
    for ``first`` (tests/scanner/test_billing_rollup.py holds it to that)."""
    return (
        billing.filter(pl.col("CommitmentDiscountId").is_not_null())
        .group_by("CommitmentDiscountId", "CommitmentDiscountStatus")
        .agg(
            *[pl.col(c).first(ignore_nulls=True) for c in _COMMITMENT_DESCRIPTIONS],
            pl.col("EffectiveCost").sum().alias("effective_cost"),
            pl.len().alias("line_items"),
            pl.col("ChargePeriodStart").min().alias("first_start"),
            pl.col("ChargePeriodEnd").max().alias("last_end"),
        )
    )


def rollup_of(source: BillingSource, rates: Mapping[str, float] | None = None) -> BillingRollup:
    """The billing rollup of ``source``: the files' one full read after staging. A file
    that fails half-way through is bad input (exit 2, one line naming the files)."""
    return _built(source.scan, source.files, streaming=True, rates=rates, pieces=_pieces(source))


def _pieces(source: BillingSource) -> list[pl.LazyFrame] | None:
    """The files' own scans, in the order ``source.scan`` concatenates them, when every
    file read has one (else None: the day sums slice ``source.scan`` itself)."""
    scans = [read.scan for read in source.reads]
    if len(scans) < 2 or len(scans) != len(source.files):
        return None
    pieces = [scan for scan in scans if scan is not None]
    return pieces if len(pieces) == len(scans) else None


def attach(
    inventory: Inventory,
    source: BillingSource,
    rollup: BillingRollup | None = None,
    rates: Mapping[str, float] | None = None,
) -> None:
    """Hold ``source`` as the inventory's ``billing`` scan with its rollup (built now when
    not given), so policies never meet a file's failure."""
    inventory.add_scan("billing", source.scan)
    inventory.billing_files = list(source.files)
    inventory.rejections.extend(source.rejections)
    inventory.use_billing_rollup(rollup if rollup is not None else rollup_of(source, rates))


def prepare(inventory: Inventory, rates: Mapping[str, float] | None = None) -> None:
    """Build the rollup of whatever billing data the inventory holds, before any policy
    reads it; the accounts and regions of a billing-only inventory come from it."""
    if not inventory.has("billing"):
        return
    if not inventory.has_billing_rollup():
        streaming = "billing" in inventory.scans
        inventory.use_billing_rollup(
            _built(
                inventory.lazy("billing"), inventory.billing_files, streaming=streaming, rates=rates
            )
        )
    rollup = inventory.billing_rollup()
    if not inventory.accounts:
        inventory.accounts = rollup.accounts()
    if not inventory.regions:
        inventory.regions = rollup.regions()


def _built(
    scan: pl.LazyFrame,
    files: Sequence[str],
    *,
    streaming: bool,
    rates: Mapping[str, float] | None = None,
    pieces: Sequence[pl.LazyFrame] | None = None,
) -> BillingRollup:
    try:
        return build(scan, streaming=streaming, rates=rates, pieces=pieces)
    except pl.exceptions.PolarsError as exc:
        where = ", ".join(files) or "the billing data"
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputFileError(f"{where}: cannot be read: {first_line}") from exc
