"""cfn/costradar-org.yaml: service-managed StackSets that deploy the role (and the forwarders) to
an organisation, with parameters that the role template actually declares."""

from __future__ import annotations

from conftest import cfn_policy


def props(t, logical):
    return t["Resources"][logical]["Properties"]


def passed(stackset_props) -> dict:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stackset_props["Parameters"]}


def test_member_stackset_is_service_managed_and_auto_deploys(org):
    p = props(org, "MemberRoles")
    assert p["PermissionModel"] == "SERVICE_MANAGED"
    assert p["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert p["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert p["TemplateURL"] == {"Ref": "RoleTemplateUrl"}
    (group,) = p["StackInstancesGroup"]
    assert group["DeploymentTargets"] == {"OrganizationalUnitIds": {"Ref": "TargetOrganizationalUnitIds"}}
    assert group["Regions"] == [{"Ref": "AWS::Region"}], "members register with the topic in this region"
    prefs = p["OperationPreferences"]
    assert prefs["FailureTolerancePercentage"] == {"Ref": "FailureTolerancePercentage"}
    assert prefs["MaxConcurrentPercentage"] == {"Ref": "MaxConcurrentPercentage"}


def test_members_get_every_required_role_parameter_and_only_real_ones(org, role):
    role_params = role["Parameters"]
    required = {n for n, spec in role_params.items() if "Default" not in spec}
    for logical in ("MemberRoles",):
        given = set(passed(props(org, logical)))
        assert required <= given, f"{logical} misses {sorted(required - given)}"
        assert given <= set(role_params), f"{logical} passes unknown {sorted(given - set(role_params))}"
    nested = set(props(org, "ManagementAccount")["Parameters"])
    assert required <= nested <= set(role_params)


def test_members_never_create_a_cur_or_their_own_stackset(org):
    p = passed(props(org, "MemberRoles"))
    assert p["EnableCur"] == "false"
    assert p["RegionalForwarders"] == "none"


def test_no_shared_ingest_token_goes_to_the_members(org):
    # Each member's stack gets its own token from costradar's answer: nothing shared is passed.
    assert "IngestToken" not in repr(org)


def test_forwarders_go_to_the_other_regions_of_every_member(org, forwarder):
    s = org["Resources"]["MemberForwarders"]
    assert s["Condition"] == "DeployForwarders"
    p = s["Properties"]
    assert p["PermissionModel"] == "SERVICE_MANAGED" and p["AutoDeployment"]["Enabled"] is True
    (group,) = p["StackInstancesGroup"]
    assert group["Regions"] == {"Ref": "Regions"}
    assert set(passed(p)) == set(forwarder["Parameters"])


def test_management_account_gets_the_role_and_optionally_the_cur(org):
    m = org["Resources"]["ManagementAccount"]
    assert m["Type"] == "AWS::CloudFormation::Stack" and m["Condition"] == "InManagementAccount"
    assert m["Properties"]["Parameters"]["EnableCur"] == {"Ref": "EnableCurInManagementAccount"}
    r = cfn_policy.Renderer(org, {"EnableCurInManagementAccount": "true", "DeployInManagementAccount": "true"})
    assert r.condition("InManagementAccount")


def test_org_and_role_parameters_share_their_constraints(org, role):
    for name in ("TenantId", "ExternalId", "CostradarAccountId", "CustomResourceTopicArn", "ReceiverUrl"):
        for key in ("AllowedPattern", "MinLength", "MaxLength", "NoEcho"):
            assert org["Parameters"][name].get(key) == role["Parameters"][name].get(key), f"{name}.{key}"
