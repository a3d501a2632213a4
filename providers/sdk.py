"""The cloud SDKs are extras (``pip install 'costscan[gcp]'``, ``'costscan[azure]'``): a
provider finds its modules, without importing them, before the scan starts, so a missing
one is one line saying how to install it, not a traceback in the middle of a scan."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from costscan.scanner.contracts.errors import UsageError


def require_modules(provider: str, extra: str, modules: Sequence[str], sdk_name: str) -> None:
    """UsageError naming the first of ``modules`` that is not installed and the pip
    command that brings it."""
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            raise UsageError(
                f"--provider {provider} needs the {sdk_name}: pip install 'costscan[{extra}]' "
                f"({module} is missing)"
            )
