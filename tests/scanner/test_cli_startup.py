from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "boto3", "botocore", "polars", "moto", "jinja2", "google.cloud", "google.auth", "grpc",
    "azure.core", "azure.identity", "azure.mgmt",
)  # fmt: skip


def test_help_imports_no_cloud_sdk_or_polars() -> None:
    probe = (
        "import sys\n"
        "from costscan.scanner.app.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    assert "Usage:" in out
    marked = [line for line in out.splitlines() if line.startswith("HEAVY:")]
    assert marked == ["HEAVY:"]
