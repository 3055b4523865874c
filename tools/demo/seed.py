#!/usr/bin/env python3
"""Seeds the demo customer account in moto (its default account, 123456789012): the read-only
role costradar assumes, and resources with known waste in two regions. Prints, as JSON, what it
created, so the summary can compare what costradar found with what is there.

Runs under tools/with-moto.sh (AWS_ENDPOINT_URL points at moto; refuses anything else).

    seed.py [--small]       --small: one region's worth, for the end-to-end test
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from urllib.parse import urlparse

import boto3

OPERATOR_ACCOUNT = "111122223333"
CUSTOMER_ACCOUNT = "123456789012"  # moto's default account
ROLE_NAME = "CostradarReadOnly"


def loopback_only() -> str:
    url = os.environ.get("AWS_ENDPOINT_URL", "")
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"seed: AWS_ENDPOINT_URL must be a loopback moto server, not {url!r}")
    return url


def seed_role(external_id: str) -> str:
    iam = boto3.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OPERATOR_ACCOUNT}:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id},
                      "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OPERATOR_ACCOUNT}:role/costradar/*"}}}]}
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust),
                    Description="costradar demo: read-only role of the customer stack")
    return f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/{ROLE_NAME}"


def seed_cur() -> dict:
    """What the customer stack's CUR part creates (EnableCur=true), as far as moto has it: the
    export bucket, the Glue database and the Athena workgroup the queries run in. moto's Athena
    runs no SQL: a query succeeds at once with an empty result."""
    s3 = boto3.client("s3", region_name="us-east-1")
    bucket = f"costradar-demo-cur-{CUSTOMER_ACCOUNT}"
    s3.create_bucket(Bucket=bucket)
    boto3.client("glue", region_name="us-east-1").create_database(DatabaseInput={"Name": "costradar_cur"})
    boto3.client("athena", region_name="us-east-1").create_work_group(
        Name="costradar-demo",
        Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{bucket}/athena-results/"},
                       "EnforceWorkGroupConfiguration": True, "BytesScannedCutoffPerQuery": 10 * 1024 ** 3})
    return {"bucket": bucket, "database": "costradar_cur", "table": "cur2", "workgroup": "costradar-demo"}


def seed_region(region: str, heavy: bool) -> list[dict]:
    """Known waste; each entry says what a scan should flag and why."""
    ec2 = boto3.client("ec2", region_name=region)
    logs = boto3.client("logs", region_name=region)
    az = f"{region}a"
    made: list[dict] = []

    def note(kind: str, rid: str, why: str) -> None:
        made.append({"region": region, "kind": kind, "resource_id": rid, "waste": why})

    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    # Unattached volumes: paid for, used by nothing.
    for size, vtype in [(500, "gp2"), (200, "gp3")] + ([(1000, "st1")] if heavy else []):
        v = ec2.create_volume(AvailabilityZone=az, Size=size, VolumeType=vtype)
        note("ebs-volume", v["VolumeId"], f"unattached {vtype} {size} GiB")
    # An elastic IP associated with nothing.
    eip = ec2.allocate_address(Domain="vpc")
    note("elastic-ip", eip["AllocationId"], "unassociated Elastic IP")
    # Previous-generation instances (gp2 root volumes), one of them stopped with its volume.
    for itype in ["m4.xlarge", "t2.large"] + (["c4.2xlarge"] if heavy else []):
        i = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType=itype,
                              Placement={"AvailabilityZone": az})["Instances"][0]
        note("ec2-instance", i["InstanceId"], f"previous generation {itype}")
    stopped = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="m5.large",
                                Placement={"AvailabilityZone": az})["Instances"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[stopped])
    note("ec2-instance", stopped, "stopped m5.large still paying for its EBS volumes")
    # A NAT gateway in a VPC with no workload.
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
    nat_eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=nat_eip)["NatGateway"]["NatGatewayId"]
    note("nat-gateway", nat, "NAT gateway with no traffic")
    # Log groups that keep everything forever.
    for name in [f"/costradar-demo/{region}/app", f"/costradar-demo/{region}/batch"]:
        logs.create_log_group(logGroupName=name)
        note("log-group", name, "no retention (kept forever)")
    logs.create_log_group(logGroupName=f"/costradar-demo/{region}/kept-30-days")
    logs.put_retention_policy(logGroupName=f"/costradar-demo/{region}/kept-30-days", retentionInDays=30)
    # An old snapshot of a volume that no longer exists.
    src = ec2.create_volume(AvailabilityZone=az, Size=100, VolumeType="gp3")["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=src, Description="costradar demo: orphaned snapshot")["SnapshotId"]
    ec2.delete_volume(VolumeId=src)
    note("ebs-snapshot", snap, "snapshot of a deleted volume")
    return made


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--external-id", default="set-by-the-customer-stack")
    args = ap.parse_args()
    loopback_only()
    regions = ["us-east-1"] if args.small else ["us-east-1", "eu-west-1"]
    role_arn = seed_role(args.external_id)
    resources = [r for region in regions for r in seed_region(region, heavy=not args.small)]
    cur = seed_cur()
    print(json.dumps({"account_id": CUSTOMER_ACCOUNT, "role_arn": role_arn, "regions": regions, "cur": cur,
                      "resources": resources}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
