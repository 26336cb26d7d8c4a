"""`socialcare console publish`: console/ and a config.json from the stack's outputs into the console
bucket (moto S3 here), stale files removed, and clear errors for a stack without a console."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from socialcare.console.publish import PublishError, console_config, publish

ROOT = Path(__file__).resolve().parents[3]
OUTPUTS = {
    "TableName": "socialcare-state",
    "ConsoleBucketName": "socialcare-console-123",
    "ConsoleUrl": "https://d111111abcdef8.cloudfront.net/",
    "ConsoleApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
    "ConsoleUserPoolId": "eu-west-1_AbCdEfGhI",
    "ConsoleUserPoolClientId": "1example23456789",
    "ConsoleSignInDomain": "https://socialcare-console-123-eu-west-1.auth.eu-west-1.amazoncognito.com",
}


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket=OUTPUTS["ConsoleBucketName"], CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield client


def test_publish_uploads_every_console_file_and_a_config_from_the_outputs(s3):
    # Given a bucket with a file an earlier console had
    s3.put_object(Bucket=OUTPUTS["ConsoleBucketName"], Key="js/old.js", Body=b"old")
    # When the console is published
    done = publish(s3, OUTPUTS, "eu-west-1", ROOT / "console")
    # Then every file of console/ is there, byte for byte, typed, and revalidated on each load
    local = {p.relative_to(ROOT / "console").as_posix(): p for p in (ROOT / "console").rglob("*") if p.is_file()}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=OUTPUTS["ConsoleBucketName"])["Contents"]}
    assert keys == set(local) | {"config.json"} and done.files == len(keys) and done.removed == ["js/old.js"]
    for key, path in local.items():
        got = s3.get_object(Bucket=OUTPUTS["ConsoleBucketName"], Key=key)
        assert got["Body"].read() == path.read_bytes() and got["CacheControl"] == "no-cache"
    main = s3.get_object(Bucket=OUTPUTS["ConsoleBucketName"], Key="js/main.js")
    assert main["ContentType"].startswith("text/javascript")  # module scripts need a JavaScript type
    assert s3.get_object(Bucket=OUTPUTS["ConsoleBucketName"], Key="index.html")["ContentType"].startswith("text/html")
    # And config.json names the pool, its client, the sign-in domain, the API and the console's address
    config = json.loads(s3.get_object(Bucket=OUTPUTS["ConsoleBucketName"], Key="config.json")["Body"].read())
    assert config == {
        "mode": "cognito",
        "region": "eu-west-1",
        "api": OUTPUTS["ConsoleApiUrl"],
        "clientId": OUTPUTS["ConsoleUserPoolClientId"],
        "signInDomain": OUTPUTS["ConsoleSignInDomain"],
        "redirectUri": OUTPUTS["ConsoleUrl"],
        "userPoolId": OUTPUTS["ConsoleUserPoolId"],
    }


def test_a_dry_run_changes_nothing(s3):
    done = publish(s3, OUTPUTS, "eu-west-1", ROOT / "console", dry_run=True)
    assert done.files > 5 and "Contents" not in s3.list_objects_v2(Bucket=OUTPUTS["ConsoleBucketName"])


def test_a_stack_without_the_console_block_or_files_is_a_clear_error(s3, tmp_path):
    bare = {k: v for k, v in OUTPUTS.items() if k not in ("ConsoleUserPoolId", "ConsoleSignInDomain")}
    with pytest.raises(PublishError, match="ConsoleSignInDomain, ConsoleUserPoolId"):
        console_config(bare, "eu-west-1")
    with pytest.raises(PublishError, match="no console files"):
        publish(s3, OUTPUTS, "eu-west-1", tmp_path)
