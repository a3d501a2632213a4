"""The AWS provider: accounts and regions in parallel, each collector failing on its own.

Flow for one scan: who am I (STS), which regions (the request, or every enabled region),
which accounts (the caller, or every active member of the organization through an assumed
role), then one thread per account-region running the EC2 and CloudWatch collectors.
A collector that fails leaves a ``CollectorError`` and the rest of the scan goes on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

import polars as pl

from costscan.providers.aws import advice as advice_collectors
from costscan.providers.aws import commitments as commitment_collectors
from costscan.providers.aws import compute as ec2_collectors
from costscan.providers.aws import cost_hub, metrics
from costscan.providers.aws import data_services as data_service_collectors
from costscan.providers.aws import fleets as fleet_collectors
from costscan.providers.aws import network as network_collectors
from costscan.providers.aws import observability as observability_collectors
from costscan.providers.aws import serverless as serverless_collectors
from costscan.providers.aws import storage as storage_collectors
from costscan.providers.aws.deadline import CollectorTimeout, run_with_deadline
from costscan.providers.aws.scan import (
    GLOBAL,
    Account,
    RegionScan,
    SharedFacts,
    collector_error,
    one_line,
)
from costscan.providers.aws.session import (
    ClientFactory,
    EventHook,
    check_credentials,
    client_config,
    guarded_session,
)
from costscan.providers.interface import Progress, Provider, ScanRequest, no_progress
from costscan.scanner.contracts.errors import ProviderError, UsageError
from costscan.scanner.contracts.inventory import Inventory

if TYPE_CHECKING:
    import boto3

T = TypeVar("T")

DEFAULT_REGION = "us-east-1"
# Attempts per call, in botocore's adaptive mode (standard retries plus a client-side rate
# limiter that slows down when AWS throttles). The total a collector may take is capped by
# its deadline (ScanRequest.collector_timeout), whatever the attempts would add up to.
DEFAULT_MAX_ATTEMPTS = 8
# A region name as AWS spells them (us-east-1, eu-central-2, us-gov-west-1, cn-north-1).
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
# An IAM role name, optionally with a path (iam CreateRole: [\w+=,.@-]+, paths of /-separated).
ROLE_NAME = re.compile(r"[\w+=,.@/-]{1,512}")


def _scan_region(run: RegionScan) -> Inventory:
    ec2 = run.client("ec2")
    inv = run.inventory
    instances = run.attempt("ec2.instances", lambda: ec2_collectors.describe_instances(ec2))
    # Facts for what can be priced or is running: DescribeInstanceTypes by name.
    in_use = {str(i.get("InstanceType")) for i in instances or () if i.get("InstanceType")}
    wanted = set(run.prices.filter(pl.col("region") == run.region)["instance_type"]) | in_use
    facts = run.attempt(
        "ec2.instance_type_facts",
        lambda: run.facts.get(
            run.region, wanted, lambda types: ec2_collectors.instance_type_facts(ec2, types)
        ),
    )
    prices = ec2_collectors.region_prices(facts, run.prices, run.region)
    inv.add("prices", prices)
    if not instances:
        return inv

    autoscaling = run.client("autoscaling")
    groups = run.attempt(
        "autoscaling.group_membership",
        # The groups themselves, kept for the fleets collector (providers/aws/fleets.py).
        lambda: fleet_collectors.describe_groups(autoscaling),
        resources=[str(i.get("InstanceId")) for i in instances],
    )
    compute, tags = ec2_collectors.instance_frames(
        instances,
        account_id=run.account.account_id,
        region=run.region,
        groups=fleet_collectors.membership(groups),
    )
    compute = ec2_collectors.price_instances(compute, prices, facts)
    inv.add("compute", compute)
    inv.add("tags", tags)

    group_types = (
        compute.filter(pl.col("group").is_not_null())["instance_type"].unique().sort().to_list()
    )
    if group_types:
        spot = run.attempt(
            "ec2.spot_prices",
            lambda: ec2_collectors.spot_prices(
                ec2, group_types, region=run.region, now=run.request.context.now
            ),
        )
        if spot is not None:
            inv.add("spot_prices", spot)

    cloudwatch = run.client("cloudwatch")
    instance_ids = compute["resource_id"].to_list()
    memory = run.attempt(
        "cloudwatch.memory_metric_list", lambda: metrics.memory_dimensions(cloudwatch)
    )
    plan = metrics.plan_queries(instance_ids, memory)
    start, end = metrics.lookback_window(run.request.context.now, run.request.context.lookback_days)
    utilization = run.attempt(
        "cloudwatch.instance_utilization",
        lambda: metrics.fetch_series(cloudwatch, plan, start, end),
        resources=instance_ids,
    )
    if utilization is not None:
        inv.add("utilization", utilization)
    return inv


def _scan_everything_regional(run: RegionScan) -> Inventory:
    _scan_region(run)
    for collect in REGIONAL_COLLECTORS:
        collect(run)
    return run.inventory


def _scan_account(run: RegionScan) -> Inventory:
    """Once per account: services that are global (S3 listing, CloudFront, Cost Explorer)."""
    for collect in ACCOUNT_COLLECTORS:
        collect(run)
    return run.inventory


# The other families' collectors, each ``(run: RegionScan) -> None``: it adds frames to
# ``run.inventory`` and wraps each AWS call in ``run.attempt`` so that one failure costs
# only its own data.
REGIONAL_COLLECTORS: tuple[Callable[[RegionScan], None], ...] = (
    network_collectors.scan_network_region,
    storage_collectors.scan_storage_region,
    commitment_collectors.scan_commitments_region,
    observability_collectors.scan_observability_region,
    data_service_collectors.scan_data_services_region,
    fleet_collectors.scan_fleets_region,
    serverless_collectors.scan_serverless_region,
    serverless_collectors.scan_containers_region,
    advice_collectors.scan_advice_region,
)
ACCOUNT_COLLECTORS: tuple[Callable[[RegionScan], None], ...] = (
    network_collectors.scan_network_account,
    storage_collectors.scan_storage_account,
    commitment_collectors.scan_commitments_account,
    cost_hub.scan_cost_hub_account,
)


class AwsProvider(Provider):
    """EC2 instances, instance type facts, prices, spot prices and CloudWatch utilization.

    ``hooks`` are extra botocore event handlers put on every client the provider makes
    (tests and the benchmark count or record calls with them). ``max_attempts`` is
    botocore's retry budget per call; ``max_workers`` overrides the request's pool size.
    """

    name = "aws"

    def __init__(
        self,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_workers: int | None = None,
        hooks: Sequence[EventHook] = (),
    ) -> None:
        self.max_attempts = max_attempts
        self.max_workers = max_workers
        self.hooks = tuple(hooks)

    def check(self, request: ScanRequest) -> None:
        """The profile, the shared config files and the credentials resolve, locally."""
        for region in request.regions:
            if not REGION_NAME.fullmatch(region):
                raise UsageError(f"--region {region!r}: not an AWS region name (like us-east-1)")
        if request.org_role is not None and not ROLE_NAME.fullmatch(request.org_role.strip("/")):
            raise UsageError(
                f"--org-role {request.org_role!r}: not an IAM role name (letters, digits, "
                "+=,.@_- and / for a path)"
            )
        check_credentials(request.profile)

    def collect(self, request: ScanRequest, progress: Progress = no_progress) -> Inventory:
        lock = threading.Lock()

        def report(step: str, advance: int = 1) -> None:
            with lock:  # progress callbacks are not expected to be thread-safe
                progress(step, advance)

        session = guarded_session(request.profile)
        home = session.region_name or DEFAULT_REGION
        base = ClientFactory(
            session,
            endpoint_url=request.endpoint_url,
            config=client_config(self.max_attempts, read_timeout=request.collector_timeout),
            hooks=self.hooks,
        )

        def first(call: Callable[[], T], label: str) -> T:
            # The first calls of a scan have a deadline too; past it the scan cannot start.
            try:
                return run_with_deadline(
                    call,
                    request.collector_timeout,
                    label=label,
                    notice=lambda text: report(text, 0),
                )
            except CollectorTimeout as exc:
                raise ProviderError(f"{label}: {exc}") from None

        caller_account, partition = first(lambda: _caller_identity(base, home), "sts identity")
        inventory = Inventory(provider="aws", context=request.context)
        regions = list(dict.fromkeys(request.regions)) or first(
            lambda: _enabled_regions(base, home), "ec2 enabled regions"
        )
        accounts = [Account(caller_account, base)]
        if request.org_role:
            accounts = self._organization_accounts(
                base, home, caller_account, partition, request.org_role, inventory
            )
        prices = _price_book(request, session, regions, caller_account, inventory)
        report("prices", 1)

        facts = SharedFacts()
        runs = [
            RegionScan(account, region, request, prices, report, facts=facts)
            for account in accounts
            for region in regions
        ]
        account_runs = [
            RegionScan(account, GLOBAL, request, prices, report, home_region=home)
            for account in accounts
        ]
        workers = max(1, min(self.max_workers or request.max_workers, len(runs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="costscan-aws") as pool:
            # Results are taken in submission order, so frames come out deterministic.
            scanned = list(pool.map(_scan_everything_regional, runs))
            scanned += list(pool.map(_scan_account, account_runs))
        inventory.merge(scanned)
        for account in accounts:
            if account.account_id not in inventory.accounts:
                inventory.accounts.append(account.account_id)
        for region in regions:
            if region not in inventory.regions:
                inventory.regions.append(region)
        return inventory

    def _organization_accounts(
        self,
        base: ClientFactory,
        home: str,
        caller_account: str,
        partition: str,
        role: str,
        inventory: Inventory,
    ) -> list[Account]:
        """The caller plus every active member reachable through ``role``."""
        from botocore.exceptions import BotoCoreError, ClientError

        accounts = [Account(caller_account, base)]
        try:
            members: list[str] = []
            paginator = base.client("organizations", home).get_paginator("list_accounts")
            for page in paginator.paginate():
                members.extend(
                    a["Id"] for a in page.get("Accounts", []) if a.get("Status") == "ACTIVE"
                )
        except (ClientError, BotoCoreError) as exc:
            inventory.errors.append(
                collector_error(
                    "organizations.member_accounts", caller_account, GLOBAL, one_line(exc)
                )
            )
            return accounts
        sts = base.client("sts", home)
        role_path = role.strip("/")
        for member in members:
            if member == caller_account:
                continue
            try:
                answer = sts.assume_role(
                    RoleArn=f"arn:{partition}:iam::{member}:role/{role_path}",
                    RoleSessionName="costscan-read-only",
                )
            except (ClientError, BotoCoreError) as exc:
                inventory.errors.append(
                    collector_error(
                        "sts.member_account_access",
                        member,
                        GLOBAL,
                        f"account not scanned: cannot assume {role_path}: {one_line(exc)}",
                    )
                )
                continue
            creds = answer["Credentials"]
            session = guarded_session(
                access_key=creds["AccessKeyId"],
                secret_key=creds["SecretAccessKey"],
                session_token=creds["SessionToken"],
                region=home,
            )
            accounts.append(Account(member, base.for_session(session)))
        return accounts


def _caller_identity(base: ClientFactory, home: str) -> tuple[str, str]:
    """(account id, partition) of the credentials; no credentials at all is fatal."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    try:
        identity = base.client("sts", home).get_caller_identity()
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        # The credentials were never tried: say so, not that they are wrong.
        raise ProviderError(f"cannot reach AWS STS: {one_line(exc)}") from None
    except (ClientError, BotoCoreError) as exc:
        raise ProviderError(f"AWS credentials could not be used: {one_line(exc)}") from None
    arn = str(identity.get("Arn", "arn:aws:"))
    partition = arn.split(":")[1] if arn.count(":") >= 2 else "aws"
    return str(identity["Account"]), partition or "aws"


def _enabled_regions(base: ClientFactory, home: str) -> list[str]:
    """Every region enabled for the account (DescribeRegions lists only those by default)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = base.client("ec2", home).describe_regions()
    except (ClientError, BotoCoreError) as exc:
        raise ProviderError(
            f"could not list enabled AWS regions (pass --region to choose): {one_line(exc)}"
        ) from None
    return sorted(r["RegionName"] for r in answer.get("Regions", []))


def _price_book(
    request: ScanRequest,
    session: boto3.Session,
    regions: Sequence[str],
    account_id: str,
    inventory: Inventory,
) -> pl.DataFrame:
    """Prices for the scanned regions: live ones first when asked, the bundled catalog
    for whatever the live answer lacks (or all of it when the live call fails)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from costscan.providers.pricing.aws import bundled_ec2_prices, live_ec2_prices

    bundled = bundled_ec2_prices(regions)
    if not request.live_pricing:
        return bundled
    try:
        live = live_ec2_prices(
            session,
            regions,
            request.cache_dir,
            request.context.now,
            endpoint_url=request.endpoint_url,
        )
    except (ClientError, BotoCoreError, OSError) as exc:
        inventory.errors.append(
            collector_error("pricing.live_ec2_prices", account_id, GLOBAL, one_line(exc))
        )
        return bundled
    missing = bundled.join(
        live.select("region", "instance_type"), on=["region", "instance_type"], how="anti"
    )
    return pl.concat([live, missing], how="vertical")
