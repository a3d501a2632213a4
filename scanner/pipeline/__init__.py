"""The steps between the providers, the policies and the reports: the billing rollup,
billed-price enrichment, suppressions and history. They import only the contracts."""
