"""The operator stack's users side (issue 19): the Cognito pool that refuses self sign-up, the
console client that cannot write the tenant claim, and UsersApi, which serves the findings routes
only, each behind the JWT authorizer; the operator's IAM API stays as it was. Route checks read the
template as SAM transforms it (samtranslator from aws-sam-cli's venv, .venv/sam/), so they see the
routes API Gateway will have, not only what the template says."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import ROOT, run
from test_stack import TEMPLATE, resources, stack  # noqa: F401 (stack is a fixture)

FINDINGS_ROUTES = {
    ("get", "/tenants/{id}/findings"),
    ("get", "/tenants/{id}/findings.csv"),
    ("get", "/tenants/{id}/findings/{key+}"),
    ("patch", "/tenants/{id}/findings/{key+}"),
    ("get", "/tenants/{id}/events"),
    ("get", "/tenants/{id}/runs"),
    ("get", "/tenants/{id}/savings"),
    ("get", "/tenants/{id}/reports"),
}

# samtranslator, offline: the code locations become S3 URIs (the translator checks their form only).
TRANSLATE = """
import json, sys
from samtranslator.parser import parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse
t = yaml_parse(open(sys.argv[1]).read())
t["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"
for r in t["Resources"].values():
    if "DefinitionUri" in r.get("Properties", {}):
        r["Properties"]["DefinitionUri"] = "s3://bucket/definition.json"
print(json.dumps(Translator({}, parser.Parser()).translate(t, {}, get_managed_policy_map=lambda: {})))
"""


@pytest.fixture(scope="module")
def transformed() -> dict:
    sam = Path(os.environ.get("SAM", ROOT / ".venv" / "sam" / "bin" / "sam"))
    python = sam.parent / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run tools/check-templates.sh, which installs aws-sam-cli into .venv/sam/")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    r = run([python, "-c", TRANSLATE, TEMPLATE])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def routes(transformed: dict, api: str) -> dict[tuple[str, str], dict]:
    paths = transformed["Resources"][api]["Properties"]["Body"]["paths"]
    return {(m, p): op for p, ops in paths.items() for m, op in ops.items()}


def test_the_pool_refuses_self_sign_up_and_keeps_the_tenant_immutable(stack):
    pool = resources(stack, "AWS::Cognito::UserPool")
    assert list(pool) == ["UsersPool"]
    p = pool["UsersPool"]["Properties"]
    assert p["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True, "a self-registered user picks a tenant"
    assert p["DeletionProtection"] == "ACTIVE"
    assert p["UsernameAttributes"] == ["email"]
    assert p["MfaConfiguration"] == "OPTIONAL" and p["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    pw = p["Policies"]["PasswordPolicy"]
    assert pw["MinimumLength"] >= 12 and all(pw[k] for k in ("RequireLowercase", "RequireUppercase",
                                                              "RequireNumbers", "RequireSymbols"))
    tenant = [a for a in p["Schema"] if a["Name"] == "tenant_id"]
    assert tenant == [{**tenant[0], "AttributeDataType": "String", "Mutable": False}]
    groups = resources(stack, "AWS::Cognito::UserPoolGroup")
    assert [g["Properties"]["GroupName"] for g in groups.values()] == ["operators"]


def test_the_console_client_reads_but_cannot_write_the_tenant_claim(stack):
    clients = resources(stack, "AWS::Cognito::UserPoolClient")
    assert sorted(clients) == ["ConsoleServerClient", "UsersConsoleClient"]
    for name in clients:
        c = clients[name]["Properties"]
        assert "custom:tenant_id" in c["ReadAttributes"], name
        assert "WriteAttributes" in c and not any(a.startswith("custom:") for a in c["WriteAttributes"]), name
    c = clients["UsersConsoleClient"]["Properties"]
    assert "custom:tenant_id" in c["ReadAttributes"]
    # Absent WriteAttributes means every writable attribute: the list must be explicit.
    assert "WriteAttributes" in c and "custom:tenant_id" not in c["WriteAttributes"]
    assert not any(a.startswith("custom:") for a in c["WriteAttributes"])
    assert c["GenerateSecret"] is False, "a browser cannot keep a secret"
    assert c["AllowedOAuthFlows"] == ["code"] and c["AllowedOAuthFlowsUserPoolClient"] is True
    assert c["CallbackURLs"] == {"Ref": "ConsoleCallbackUrls"} and c["LogoutURLs"] == {"Ref": "ConsoleCallbackUrls"}
    param = stack["Parameters"]["ConsoleCallbackUrls"]
    assert param["Default"].startswith("http://localhost:") and param["Description"]


def test_users_api_serves_only_the_findings_routes_each_behind_the_jwt_authorizer(stack, transformed):
    api = resources(stack, "AWS::Serverless::HttpApi")["UsersApi"]["Properties"]
    jwt = api["Auth"]["Authorizers"]["UsersJwt"]["JwtConfiguration"]
    assert api["Auth"]["DefaultAuthorizer"] == "UsersJwt"
    assert jwt["issuer"] == {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UsersPool}"}
    assert jwt["audience"] == [{"Ref": "UsersConsoleClient"}]
    assert api["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 20, "ThrottlingRateLimit": 10}
    assert api["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["UsersApiAccessLogGroup", "Arn"]}
    users = routes(transformed, "UsersApi")
    assert set(users) == FINDINGS_ROUTES, "no $default, no tenant or account management on UsersApi"
    for route, op in users.items():
        assert op["security"] == [{"UsersJwt": []}], route
        assert "OnboardingFunction.Arn" in op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"], route
    body = transformed["Resources"]["UsersApi"]["Properties"]["Body"]
    authorizer = body["components"]["securitySchemes"]["UsersJwt"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"


def test_the_operator_api_is_unchanged(stack, transformed):
    api = resources(stack, "AWS::Serverless::HttpApi")
    assert set(api) == {"OperatorApi", "UsersApi", "ConsoleApi"}
    assert api["OperatorApi"]["Properties"]["Auth"] == {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}
    assert api["OperatorApi"]["Properties"]["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 20,
                                                                        "ThrottlingRateLimit": 10}
    operator = routes(transformed, "OperatorApi")
    assert set(operator) == FINDINGS_ROUTES | {("x-amazon-apigateway-any-method", "$default")}
    for route, op in operator.items():
        assert op["security"] == [{"AWS_IAM": []}], route


def test_outputs_give_the_users_api_url_the_pool_and_the_client(stack):
    out = stack["Outputs"]
    assert out["UsersApiUrl"]["Value"] == {"Fn::Sub": "https://${UsersApi}.execute-api.${AWS::Region}.amazonaws.com"}
    assert out["UsersPoolId"]["Value"] == {"Ref": "UsersPool"}
    assert out["UsersConsoleClientId"]["Value"] == {"Ref": "UsersConsoleClient"}


def test_the_console_api_serves_every_path_without_an_authorizer_to_the_onboarding_function(stack, transformed):
    apis = resources(stack, "AWS::Serverless::HttpApi")
    api = apis["ConsoleApi"]["Properties"]
    assert "Auth" not in api, "the function authenticates console requests from their cookie"
    assert api["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 20, "ThrottlingRateLimit": 10}
    assert api["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ConsoleApiAccessLogGroup", "Arn"]}
    console = routes(transformed, "ConsoleApi")
    assert set(console) == {("x-amazon-apigateway-any-method", "/"), ("x-amazon-apigateway-any-method", "/{proxy+}")}
    for route, op in console.items():
        assert "security" not in op or op["security"] in ([], [{"NONE": []}]), route
        assert "OnboardingFunction.Arn" in op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"], route
    # No authorizer only there: every route of the other APIs keeps its own.
    for name in ("OperatorApi", "UsersApi"):
        for route, op in routes(transformed, name).items():
            assert op.get("security") in ([{"AWS_IAM": []}], [{"UsersJwt": []}]), (name, route)
    # The handler tells console events apart by route key: no other API may use these keys.
    for name in ("OperatorApi", "UsersApi"):
        assert not {p for _, p in routes(transformed, name)} & {"/", "/{proxy+}"}, name


def test_the_console_server_client_signs_in_server_side_without_a_secret(stack):
    c = resources(stack, "AWS::Cognito::UserPoolClient")["ConsoleServerClient"]["Properties"]
    assert c["UserPoolId"] == {"Ref": "UsersPool"}
    assert c["GenerateSecret"] is False
    assert sorted(c["ExplicitAuthFlows"]) == ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert "AllowedOAuthFlows" not in c, "no OAuth: the server sends the password"
    assert c["PreventUserExistenceErrors"] == "ENABLED" and c["EnableTokenRevocation"] is True
    assert "custom:tenant_id" not in c["WriteAttributes"]
    env = resources(stack, "AWS::Serverless::Function")["OnboardingFunction"]["Properties"]["Environment"]["Variables"]
    assert env["COSTRADAR_USER_POOL_ID"] == {"Ref": "UsersPool"}
    assert env["COSTRADAR_CONSOLE_CLIENT_ID"] == {"Ref": "ConsoleServerClient"}


def test_the_onboarding_role_may_sign_in_to_the_pool_and_nothing_else_of_cognito(stack):
    role = resources(stack, "AWS::IAM::Role")["OnboardingRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    cognito = [s for s in statements if any(a.startswith("cognito-idp:") for a in
                                            ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))]
    assert len(cognito) == 1
    assert sorted(cognito[0]["Action"]) == ["cognito-idp:AdminInitiateAuth", "cognito-idp:AdminListGroupsForUser",
                                            "cognito-idp:AdminRespondToAuthChallenge"]
    assert cognito[0]["Resource"] == {"Fn::GetAtt": ["UsersPool", "Arn"]}
    assert cognito[0]["Effect"] == "Allow" and "Condition" not in cognito[0]
    # No other role touches the pool.
    for name, r in resources(stack, "AWS::IAM::Role").items():
        if name == "OnboardingRole":
            continue
        text = json.dumps(r["Properties"])
        assert "cognito-idp:" not in text, name


def test_outputs_give_the_console_url(stack):
    assert stack["Outputs"]["ConsoleUrl"]["Value"] == {
        "Fn::Sub": "https://${ConsoleApi}.execute-api.${AWS::Region}.amazonaws.com/"}
