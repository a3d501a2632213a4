"""Billing exports' own vocabulary, shared by the local file readers (providers/exports/)
and the push-down's shapes (scanner/pipeline/billing_shapes/): each table once, never a
copy per reader (CUR's lives in cur_vocab.py).

- FOCUS: https://focus.finops.org/focus-specification/ (1.0, "Mandatory" feature level);
- the GCP billing export:
  https://cloud.google.com/billing/docs/how-to/export-data-bigquery-tables/standard-usage
"""

from __future__ import annotations

# FOCUS 1.0 "Mandatory" feature level, restricted to the columns schema.BILLING keeps.
FOCUS_MANDATORY: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "ServiceCategory",
    "ServiceName",
)

# The GCP export's credit types a committed use discount gives (spend-based: dollar base).
GCP_COMMITTED_CREDITS: tuple[str, str] = (
    "COMMITTED_USAGE_DISCOUNT",
    "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
)

# The GCP export's service.description -> FOCUS ServiceCategory ("Other" for the rest).
GCP_SERVICE_CATEGORY: dict[str, str] = {
    "Compute Engine": "Compute",
    "Kubernetes Engine": "Compute",
    "Cloud Run": "Compute",
    "Cloud Functions": "Compute",
    "App Engine": "Compute",
    "Cloud Storage": "Storage",
    "Filestore": "Storage",
    "Cloud SQL": "Databases",
    "Cloud Spanner": "Databases",
    "Cloud Bigtable": "Databases",
    "Firestore": "Databases",
    "Memorystore for Redis": "Databases",
    "BigQuery": "Analytics",
    "Dataflow": "Analytics",
    "Dataproc": "Analytics",
    "Pub/Sub": "Integration",
    "Cloud Pub/Sub": "Integration",
    "Networking": "Networking",
    "Cloud CDN": "Networking",
    "Cloud DNS": "Networking",
    "Cloud Load Balancing": "Networking",
    "Cloud Logging": "Management and Governance",
    "Cloud Monitoring": "Management and Governance",
    "Vertex AI": "AI and Machine Learning",
    "Secret Manager": "Security",
    "Cloud Key Management Service (KMS)": "Security",
}
