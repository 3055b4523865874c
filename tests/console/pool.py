"""The console's user pool in moto, as an operator sets one up in AWS (docs/deploy.md): a pool
with the immutable `custom:tenant_id` attribute and admin-only sign-up, the `operators` group,
the console's server-side app client (no secret, ALLOW_ADMIN_USER_PASSWORD_AUTH), an operator
and one user per tenant created by the admin with permanent passwords. Prints JSON:
{"pool": ID, "client": ID, "users": [{"username", "password", "role"}]}.

    .venv/bin/python tests/console/pool.py --tenant ID [--tenant ID]...   (under tools/with-moto.sh)
"""

import argparse
import json
import os
import secrets

import boto3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenant", action="append", required=True)
    args = ap.parse_args()
    idp = boto3.client("cognito-idp", endpoint_url=os.environ["COSTRADAR_TEST_ENDPOINT"])
    pool = idp.create_user_pool(
        PoolName="costradar-users",
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Schema=[{"Name": "tenant_id", "AttributeDataType": "String", "Mutable": False}],
    )["UserPool"]["Id"]
    idp.create_group(UserPoolId=pool, GroupName="operators")
    client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="console-server",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["custom:tenant_id"],
        WriteAttributes=[],
    )["UserPoolClient"]["ClientId"]
    users = []

    def user(name: str, role: str, attributes: list) -> None:
        # Every class the pool's policy asks for, whatever the random part holds (an upper and a
        # lower case letter, a digit, a symbol), then 96 random bits.
        password = "Cr-7" + secrets.token_urlsafe(12)
        idp.admin_create_user(UserPoolId=pool, Username=name, UserAttributes=attributes, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool, Username=name, Password=password, Permanent=True)
        users.append({"username": name, "password": password, "role": role})

    user("operator", "operator staff (every tenant)", [])
    idp.admin_add_user_to_group(UserPoolId=pool, Username="operator", GroupName="operators")
    for t in args.tenant:
        user(f"user-of-{t}", f"a user of {t}", [{"Name": "custom:tenant_id", "Value": t}])
    print(json.dumps({"pool": pool, "client": client, "users": users}))


if __name__ == "__main__":
    main()
