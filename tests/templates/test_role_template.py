"""Static checks of cfn/costradar-role.yaml beyond the policy: parameters, real-time delivery, the
CUR 2.0 export and its Athena side. (Policy parity with the code and the trust policy are checked
in Rust, tests/tests/templates.rs, against the permission table.)"""

from __future__ import annotations

import re

import pytest

from conftest import cfn_policy


def res(role, logical):
    return role["Resources"][logical]


def props(role, logical):
    return role["Resources"][logical]["Properties"]


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize("name,good,bad", [
    ("TenantId", ["t-0123456789abcdef"], ["t-0123456789ABCDEF", "t-0123", "x-0123456789abcdef"]),
    ("ExternalId", ["costradar-" + "a1" * 20, "A" * 32, "a+=,.@:/_-" * 4],
     ["short", "a" * 129, "costradar-" + "a" * 30 + " x", "a" * 31]),
    ("CostradarAccountId", ["123456789012"], ["12345678901", "12345678901a"]),
    ("CustomResourceTopicArn", ["arn:aws:sns:eu-west-1:123456789012:costradar-cr"],
     ["arn:aws-cn:sns:cn-north-1:123456789012:t", "arn:aws:sqs:eu-west-1:123456789012:t"]),
    ("ReceiverUrl", ["", "https://abc.lambda-url.eu-west-1.on.aws", "https://costradar.example.com/v1"],
     ["http://x.example.com", "https://x.example.com/", "https://x.example.com/a b"]),
    ("CurDatabaseName", ["costradar_cur"], ["Costradar", "a-b", ""]),
])
def test_parameter_constraints(role, name, good, bad):
    spec = role["Parameters"][name]

    def accepted(v: str) -> bool:
        if "MinLength" in spec and len(v) < spec["MinLength"]:
            return False
        if "MaxLength" in spec and len(v) > spec["MaxLength"]:
            return False
        # CloudFormation anchors nothing itself; our patterns carry ^...$.
        return re.fullmatch(spec["AllowedPattern"], v) is not None

    for v in good:
        assert accepted(v), f"{name} should accept {v!r}"
    for v in bad:
        assert not accepted(v), f"{name} should refuse {v!r}"


def test_the_ingest_token_is_the_accounts_own_and_never_output(role):
    # No shared token to paste or pass around: costradar's answer to this account's Connection
    # carries the account's own token (NoEcho), and only the EventBridge connection uses it.
    assert "IngestToken" not in role["Parameters"]
    uses = [name for name, r in role["Resources"].items() if "Connection.IngestToken" in repr(r) or
            "['Connection', 'IngestToken']" in repr(r)]
    assert uses == ["RealtimeConnection"]
    outputs = repr(role["Outputs"])
    assert "IngestToken" not in outputs and "RealtimeConnection" not in outputs


def test_rules_refuse_inconsistent_choices(role):
    rules = role["Rules"]
    assert rules["RealtimeNeedsReceiver"]["RuleCondition"] == {"Fn::Equals": [{"Ref": "EnableRealtime"}, "true"]}
    assert rules["CurNeedsUsEast1"]["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


# ---------------------------------------------------------------- real time


RULES = ("Ec2StateRule", "ApiCallRule", "ApiCallRule2", "BillingAlarmRule")


def test_realtime_connection_uses_api_key_header(role):
    c = props(role, "RealtimeConnection")
    assert c["AuthorizationType"] == "API_KEY"
    assert c["AuthParameters"] == {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key",
                                                            "ApiKeyValue": {"Fn::GetAtt": ["Connection", "IngestToken"]}}}


def test_api_destination_posts_to_the_tenant_path_with_a_rate_limit(role):
    d = props(role, "RealtimeDestination")
    assert d["InvocationEndpoint"] == {"Fn::Sub": "${ReceiverUrl}/events/${TenantId}"}
    assert d["HttpMethod"] == "POST"
    assert d["InvocationRateLimitPerSecond"] == {"Ref": "RealtimeRateLimitPerSecond"}
    assert d["ConnectionArn"] == {"Fn::GetAtt": ["RealtimeConnection", "Arn"]}


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_targets_the_destination_with_retries_and_a_dead_letter_queue(role, rule):
    r = res(role, rule)
    assert r["Condition"] == "RealtimeEnabled"
    assert r["DependsOn"] == "Connection", "costradar must know the account before its first event"
    (target,) = r["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["RealtimeDestination", "Arn"]}
    assert target["RoleArn"] == {"Fn::GetAtt": ["RealtimeInvokeRole", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["RealtimeDeadLetterQueue", "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}


def rule_arns(role):
    r = cfn_policy.Renderer(role)
    return sorted(r.get_att(rule, "Arn") for rule in RULES)


def test_dead_letter_queue_is_encrypted_kept_14_days_and_writable_only_by_our_rules(role):
    q = props(role, "RealtimeDeadLetterQueue")
    assert q["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert q["SqsManagedSseEnabled"] is True
    doc = cfn_policy.Renderer(role).eval(props(role, "RealtimeDeadLetterQueuePolicy")["PolicyDocument"])
    allow = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert len(allow) == 1 and allow[0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow[0]["Action"] == "sqs:SendMessage"
    assert sorted(allow[0]["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arns(role)


def test_invoke_role_is_bound_to_our_rules_and_can_only_invoke_the_destination(role):
    r = cfn_policy.Renderer(role)
    p = props(role, "RealtimeInvokeRole")
    (trust,) = r.eval(p["AssumeRolePolicyDocument"])["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": cfn_policy.EXAMPLE_ACCOUNT}
    assert sorted(trust["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arns(role)
    (policy,) = p["Policies"]
    (stmt,) = r.eval(policy["PolicyDocument"])["Statement"]
    assert stmt == {"Effect": "Allow", "Action": "events:InvokeApiDestination",
                    "Resource": r.get_att("RealtimeDestination", "Arn")}


def test_forwarder_role_can_only_put_events_on_the_home_bus(role):
    r = cfn_policy.Renderer(role)
    p = props(role, "ForwarderRole")
    assert p["RoleName"] == "CostradarEventForwarder"
    (trust,) = r.eval(p["AssumeRolePolicyDocument"])["Statement"]
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": cfn_policy.EXAMPLE_ACCOUNT}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"].endswith(":rule/costradar-forward-*")
    (stmt,) = r.eval(p["Policies"][0]["PolicyDocument"])["Statement"]
    assert stmt["Action"] == "events:PutEvents"
    assert stmt["Resource"] == f"arn:aws:events:{cfn_policy.EXAMPLE_REGION}:{cfn_policy.EXAMPLE_ACCOUNT}:event-bus/default"


def test_forwarder_rules_use_the_role_the_stack_creates(role, forwarder):
    name = props(role, "ForwarderRole")["RoleName"]
    for logical, r in forwarder["Resources"].items():
        if r["Type"] == "AWS::Events::Rule":
            assert r["Properties"]["Name"].startswith("costradar-forward-"), logical
            (target,) = r["Properties"]["Targets"]
            assert target["RoleArn"]["Fn::Sub"].endswith(f":role/{name}"), logical
            assert target["Arn"]["Fn::Sub"].endswith(":event-bus/default"), logical


def test_forwarder_stackset_is_self_managed_and_targets_this_account_only(role):
    s = res(role, "ForwarderStackSet")
    assert s["Condition"] == "ForwardersViaStackSet"
    p = s["Properties"]
    assert p["PermissionModel"] == "SELF_MANAGED"
    (group,) = p["StackInstancesGroup"]
    assert group["DeploymentTargets"] == {"Accounts": [{"Ref": "AWS::AccountId"}]}
    assert group["Regions"] == {"Ref": "Regions"}
    assert p["Parameters"] == [{"ParameterKey": "HomeRegion", "ParameterValue": {"Ref": "AWS::Region"}}]


# ---------------------------------------------------------------- CUR 2.0, Glue, Athena


CUR_RESOURCES = ("CurBucket", "CurBucketPolicy", "CurExport", "CurDatabase", "CurTable", "AthenaResultsBucket",
                 "AthenaResultsBucketPolicy", "CurWorkgroup")


def test_cur_resources_exist_only_with_the_cur(role):
    for logical in CUR_RESOURCES:
        assert res(role, logical)["Condition"] == "CurEnabled", logical
    r_off = cfn_policy.Renderer(role, {"EnableCur": "false"})
    assert not any(r_off.resource_enabled(x) for x in CUR_RESOURCES)


def test_cur_export_is_parquet_hourly_overwrite(role):
    e = props(role, "CurExport")["Export"]
    cfg = e["DataQuery"]["TableConfigurations"]["COST_AND_USAGE_REPORT"]
    assert cfg["TIME_GRANULARITY"] == "HOURLY" and cfg["INCLUDE_RESOURCES"] == "TRUE"
    s3 = e["DestinationConfigurations"]["S3Destination"]
    assert s3["S3OutputConfigurations"] == {"OutputType": "CUSTOM", "Format": "PARQUET", "Compression": "PARQUET",
                                            "Overwrite": "OVERWRITE_REPORT"}
    assert s3["S3Bucket"] == {"Ref": "CurBucket"}
    assert res(role, "CurExport")["DependsOn"] == "CurBucketPolicy"


def export_columns(role) -> list[str]:
    q = props(role, "CurExport")["Export"]["DataQuery"]["QueryStatement"]
    m = re.fullmatch(r"\s*SELECT\s+(.*?)\s+FROM COST_AND_USAGE_REPORT\s*", q, re.S)
    assert m, q
    return [c.strip() for c in m.group(1).split(",")]


def test_glue_table_columns_are_the_export_columns(role):
    table = props(role, "CurTable")["TableInput"]
    columns = [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    assert columns == export_columns(role)
    types = {c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    assert types <= {"string", "double", "timestamp", "map<string,string>"}, types


def test_glue_table_projects_billing_period_partitions_where_the_export_writes(role):
    r = cfn_policy.Renderer(role, {"EnableCur": "true"})
    e = props(role, "CurExport")["Export"]
    s3 = e["DestinationConfigurations"]["S3Destination"]
    # AWS Data Exports writes s3://<bucket>/<prefix>/<export-name>/data/BILLING_PERIOD=YYYY-MM/
    data = f"s3://{r.ref('CurBucket')}/{s3['S3Prefix']}/{e['Name']}/data/"
    table = r.eval(props(role, "CurTable"))["TableInput"]
    assert table["StorageDescriptor"]["Location"] == data
    p = table["Parameters"]
    assert p["projection.enabled"] == "true"
    assert p["projection.billing_period.type"] == "date"
    assert p["projection.billing_period.format"] == "yyyy-MM"
    assert p["projection.billing_period.interval.unit"] == "MONTHS"
    assert p["storage.location.template"] == data + "BILLING_PERIOD=${billing_period}"
    assert table["PartitionKeys"] == [{"Name": "billing_period", "Type": "string"}]
    assert not any(x["Type"] == "AWS::Glue::Crawler" for x in role["Resources"].values())


def test_the_role_reads_only_the_export_prefix(role, policy_cur):
    e = props(role, "CurExport")["Export"]
    prefix = e["DestinationConfigurations"]["S3Destination"]["S3Prefix"]
    (stmt,) = [s for s in policy_cur["Statement"] if s["Sid"] == "CurReadExport"]
    bucket = cfn_policy.Renderer(role, {"EnableCur": "true"}).get_att("CurBucket", "Arn")
    assert sorted(stmt["Resource"]) == sorted([bucket, f"{bucket}/{prefix}/*"])


def test_cur_bucket_policy_lets_only_data_exports_write(role):
    r = cfn_policy.Renderer(role, {"EnableCur": "true"})
    doc = r.eval(props(role, "CurBucketPolicy")["PolicyDocument"])
    allow = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert len(allow) == 1
    s = allow[0]
    assert sorted(s["Principal"]["Service"]) == ["bcm-data-exports.amazonaws.com", "billingreports.amazonaws.com"]
    assert sorted(s["Action"]) == ["s3:GetBucketPolicy", "s3:PutObject"]
    assert s["Condition"]["StringEquals"] == {"aws:SourceAccount": cfn_policy.EXAMPLE_ACCOUNT}
    assert all(":us-east-1:" + cfn_policy.EXAMPLE_ACCOUNT + ":" in a for a in s["Condition"]["StringLike"]["aws:SourceArn"])
    deny = [s for s in doc["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("bucket", ["CurBucket", "AthenaResultsBucket"])
def test_buckets_are_encrypted_and_private(role, bucket):
    p = props(role, bucket)
    assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(p["PublicAccessBlockConfiguration"].values()) and len(p["PublicAccessBlockConfiguration"]) == 4
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_results_bucket_expires_objects(role):
    (rule,) = props(role, "AthenaResultsBucket")["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == {"Ref": "AthenaResultsExpirationDays"} and rule["Status"] == "Enabled"


def test_workgroup_enforces_its_configuration_and_a_scan_limit(role):
    p = props(role, "CurWorkgroup")
    c = p["WorkGroupConfiguration"]
    assert c["EnforceWorkGroupConfiguration"] is True
    assert c["BytesScannedCutoffPerQuery"] == {"Ref": "AthenaBytesScannedCutoff"}
    assert c["ResultConfiguration"]["OutputLocation"] == {"Fn::Sub": "s3://${AthenaResultsBucket}/"}
    assert c["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert role["Parameters"]["AthenaBytesScannedCutoff"]["MinValue"] == 10 * 1024 * 1024  # Athena's minimum


def test_custom_resource_cur_names_pass_the_handler_validation(role):
    # The handler (crates/core/src/domain/account.rs, CurSettings::validate) wants Glue names of
    # [a-z0-9_] and a workgroup of [A-Za-z0-9._-].
    r = cfn_policy.Renderer(role, {"EnableCur": "true"})
    props_ = r.eval(props(role, "Connection"))
    assert re.fullmatch(r"[a-z0-9_]{1,255}", props_["CurDatabase"])
    assert re.fullmatch(r"[a-z0-9_]{1,255}", props_["CurTable"])
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", props_["CurWorkgroup"])
    assert props_["Regions"] == [cfn_policy.EXAMPLE_REGION]
    off = cfn_policy.Renderer(role, {"EnableCur": "false", "Regions": "eu-west-1,us-east-1"}).eval(props(role, "Connection"))
    assert not any(k.startswith("Cur") for k in off) and off["Regions"] == ["eu-west-1", "us-east-1"]


def test_outputs_say_what_was_enabled(role):
    assert {"RoleArn", "RealtimeEnabled", "CurEnabled", "ScannedRegions", "RealtimeForwarders"} <= set(role["Outputs"])
