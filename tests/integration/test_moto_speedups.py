"""The local stack's speed-only moto patches answer exactly what moto itself answers."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from socialcare.local import moto_patches

pytestmark = pytest.mark.integration


@pytest.fixture
def table() -> Any:
    moto_patches.install()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "ByG", "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"},
                                                                       {"AttributeName": "SK", "KeyType": "RANGE"}],
                                     "Projection": {"ProjectionType": "ALL"}}],
        )
        for i in range(30):
            ddb.put_item(TableName="t", Item={
                "PK": {"S": f"P{i}"}, "SK": {"S": f"{i:03d}"}, "G": {"S": "g"}, "n": {"N": str(i)},
                "tags": {"M": {"language": {"M": {"value": {"S": "en"}, "confidence": {"N": "0.5"}}},
                               "intent": {"M": {"value": {"S": "complaint"}}}}},
                "l": {"L": [{"S": "a"}, {"N": "1"}]}, "owner": {"NULL": True} if i % 2 else {"S": "maria"},
                "b": {"BOOL": i % 3 == 0}, "ss": {"SS": ["x", "y"]},
            })
        yield ddb


def both(call: Any) -> tuple[Any, Any]:
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.responses import DynamoHandler

    patched = call()
    project, serialized = dynamo_type.Item.project, DynamoHandler.serialized
    dynamo_type.Item.project = moto_patches.ORIGINALS["Item.project"]
    DynamoHandler.serialized = moto_patches.ORIGINALS["DynamoHandler.serialized"]
    try:
        plain = call()
    finally:
        dynamo_type.Item.project, DynamoHandler.serialized = project, serialized
    patched.pop("ResponseMetadata"), plain.pop("ResponseMetadata")
    return patched, plain


def test_projected_index_queries_filters_and_batch_reads_are_unchanged(table):
    query = dict(TableName="t", IndexName="ByG", KeyConditionExpression="G = :g",
                 ExpressionAttributeValues={":g": {"S": "g"}})
    calls = [
        lambda: table.query(**query, Limit=7),
        lambda: table.query(**query, ProjectionExpression="PK, n, tags.#l.#v, #o, l, ss",
                            ExpressionAttributeNames={"#l": "language", "#v": "value", "#o": "owner"}),
        lambda: table.query(**{**query, "ExpressionAttributeValues": {":g": {"S": "g"}, ":null": {"S": "NULL"}}},
                            FilterExpression="attribute_type(#o, :null)", ExpressionAttributeNames={"#o": "owner"},
                            Limit=12),
        lambda: table.get_item(TableName="t", Key={"PK": {"S": "P3"}, "SK": {"S": "003"}}),
        lambda: table.get_item(TableName="t", Key={"PK": {"S": "nope"}, "SK": {"S": "x"}}),
        lambda: table.batch_get_item(RequestItems={"t": {
            "Keys": [{"PK": {"S": f"P{i}"}, "SK": {"S": f"{i:03d}"}} for i in range(0, 30, 3)],
            "ProjectionExpression": "PK, tags"}}),
    ]
    for call in calls:
        patched, plain = both(call)
        assert patched == plain
        assert patched.get("Items") or patched.get("Item") or patched.get("Responses") or patched == {}
