"""Every policy costscan ships: the policy modules imported, their registry read back.

The contracts' registry only records what ``@policy`` declares; importing the modules that
declare them is wiring, so it happens here, in the composition root.
"""

from __future__ import annotations

import importlib
import pkgutil

from costscan.scanner.contracts.errors import UsageError
from costscan.scanner.contracts.registry import Policy, registered

POLICY_PACKAGE = "costscan.policies"


def all_policies() -> dict[str, Policy]:
    """Every registered policy by id, importing the policy modules on first use."""
    package = importlib.import_module(POLICY_PACKAGE)
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{POLICY_PACKAGE}.{module.name}")
    return registered()


def policy_by_id(policy_id: str) -> Policy:
    policies = all_policies()
    if policy_id not in policies:
        raise UsageError(f"unknown policy id {policy_id!r}; `costscan policies` lists them")
    return policies[policy_id]
