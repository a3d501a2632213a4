"""The contracts: schemas, the inventory, config, errors, the policy registry, vocabularies.

Every other room imports from here; this room imports from no other.
"""
