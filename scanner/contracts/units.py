"""Units of time and size every price and saving is expressed in."""

from __future__ import annotations

from typing import Final

# AWS prices a month as 730 hours (8,760 h / 12): its on-demand pricing pages and the
# AWS Pricing Calculator (https://calculator.aws/) both turn hourly rates into monthly
# ones with 730 hours. Azure's retail prices and GCP's pricing calculator use the same
# 730-hour month.
HOURS_PER_MONTH: Final = 730.0
# Days in the same 730-hour month, for scaling daily or windowed costs.
DAYS_PER_MONTH: Final = HOURS_PER_MONTH / 24.0
# Weeks in an average month, for weekly schedules: 52 weeks / 12 months.
WEEKS_PER_MONTH: Final = 52.0 / 12.0
HOURS_PER_DAY: Final = 24
HOURS_PER_WEEK: Final = 168
MONTHS_PER_YEAR: Final = 12

# Cloud storage is priced per GB of 2^30 bytes (AWS, GCP and Azure bill "GB" as GiB).
BYTES_PER_GIB: Final = 1024**3
