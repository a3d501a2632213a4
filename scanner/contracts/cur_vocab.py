"""The AWS Cost and Usage Report's own vocabulary (column names, line item types, product
codes), shared by both readers of it: the local file reader (providers/exports/cur.py) and
the push-down's CUR 2.0 shape (scanner/pipeline/billing_shapes/cur2.py). Both take a
column's name and a line item type's FOCUS meaning from these tables, never from a copy.

Columns: https://docs.aws.amazon.com/cur/latest/userguide/data-dictionary.html (legacy) and
https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-cur2.html (CUR 2.0).
"""

from __future__ import annotations

# logical field -> (legacy column, CUR 2.0 column)
FIELDS: dict[str, tuple[str, str]] = {
    "line_item_type": ("lineItem/LineItemType", "line_item_line_item_type"),
    "unblended_cost": ("lineItem/UnblendedCost", "line_item_unblended_cost"),
    "public_cost": ("pricing/publicOnDemandCost", "pricing_public_on_demand_cost"),
    "resource_id": ("lineItem/ResourceId", "line_item_resource_id"),
    "product_name": ("product/ProductName", "product_product_name"),
    "product_code": ("lineItem/ProductCode", "line_item_product_code"),
    "product_family": ("product/productFamily", "product_product_family"),
    "usage_start": ("lineItem/UsageStartDate", "line_item_usage_start_date"),
    "usage_end": ("lineItem/UsageEndDate", "line_item_usage_end_date"),
    "period_start": ("bill/BillingPeriodStartDate", "bill_billing_period_start_date"),
    "period_end": ("bill/BillingPeriodEndDate", "bill_billing_period_end_date"),
    "payer": ("bill/PayerAccountId", "bill_payer_account_id"),
    "usage_account": ("lineItem/UsageAccountId", "line_item_usage_account_id"),
    "region_code": ("product/regionCode", "product_region_code"),
    "region": ("product/region", "product_region"),
    "currency": ("lineItem/CurrencyCode", "line_item_currency_code"),
    "term": ("pricing/term", "pricing_term"),
    "usage_amount": ("lineItem/UsageAmount", "line_item_usage_amount"),
    "unit": ("pricing/unit", "pricing_unit"),
    "sku": ("product/sku", "product_sku"),
    "ri_arn": ("reservation/ReservationARN", "reservation_reservation_a_r_n"),
    "ri_effective": ("reservation/EffectiveCost", "reservation_effective_cost"),
    "ri_unused_upfront": (
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
        "reservation_unused_amortized_upfront_fee_for_billing_period",
    ),
    "ri_unused_recurring": ("reservation/UnusedRecurringFee", "reservation_unused_recurring_fee"),
    "sp_arn": ("savingsPlan/SavingsPlanARN", "savings_plan_savings_plan_a_r_n"),
    "sp_effective": (
        "savingsPlan/SavingsPlanEffectiveCost",
        "savings_plan_savings_plan_effective_cost",
    ),
    "sp_total_commitment": (
        "savingsPlan/TotalCommitmentToDate",
        "savings_plan_total_commitment_to_date",
    ),
    "sp_used_commitment": ("savingsPlan/UsedCommitment", "savings_plan_used_commitment"),
}

REQUIRED_FIELDS = ("line_item_type", "unblended_cost", "usage_start", "usage_account")
USAGE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation")
CHARGE_CATEGORY = {
    **{t: "Usage" for t in USAGE_TYPES},
    "Fee": "Purchase",
    "RIFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase",
    "Tax": "Tax",
    "Credit": "Credit",
    "Refund": "Credit",
    "EdpDiscount": "Credit",
    "BundledDiscount": "Credit",
    "PrivateRateDiscount": "Credit",
    "Discount": "Credit",
    "DistributorDiscount": "Credit",
    "SppDiscount": "Credit",
}

# FOCUS ServiceCategory for the product codes that carry most spend; the rest is "Other".
SERVICE_CATEGORY = {
    "AmazonEC2": "Compute",
    "AWSLambda": "Compute",
    "AmazonECS": "Compute",
    "AmazonEKS": "Compute",
    "AWSFargate": "Compute",
    "AmazonLightsail": "Compute",
    "AmazonS3": "Storage",
    "AmazonS3GlacierDeepArchive": "Storage",
    "AmazonGlacier": "Storage",
    "AmazonEFS": "Storage",
    "AmazonFSx": "Storage",
    "AWSBackup": "Storage",
    "AmazonRDS": "Databases",
    "AmazonDynamoDB": "Databases",
    "AmazonElastiCache": "Databases",
    "AmazonRedshift": "Databases",
    "AmazonDocDB": "Databases",
    "AmazonCloudFront": "Networking",
    "AmazonVPC": "Networking",
    "AWSDataTransfer": "Networking",
    "AmazonRoute53": "Networking",
    "AWSELB": "Networking",
    "AWSGlobalAccelerator": "Networking",
    "AmazonApiGateway": "Networking",
    "AmazonCloudWatch": "Management and Governance",
    "AWSConfig": "Management and Governance",
    "AWSCloudTrail": "Management and Governance",
    "AWSCostExplorer": "Management and Governance",
    "AWSSystemsManager": "Management and Governance",
    "AmazonSQS": "Integration",
    "AmazonSNS": "Integration",
    "AWSEvents": "Integration",
    "AWSQueueService": "Integration",
    "AmazonSageMaker": "AI and Machine Learning",
    "AmazonBedrock": "AI and Machine Learning",
    "AmazonAthena": "Analytics",
    "AmazonKinesis": "Analytics",
    "AWSGlue": "Analytics",
    "AmazonES": "Analytics",
    "ElasticMapReduce": "Analytics",
    "awskms": "Security",
    "AWSSecretsManager": "Security",
    "awswaf": "Security",
    "AmazonGuardDuty": "Security",
}
