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
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByG",
                    "KeySchema": [
                        {"AttributeName": "G", "KeyType": "HASH"},
                        {"AttributeName": "SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": "SomeByG",
                    "KeySchema": [
                        {"AttributeName": "G", "KeyType": "HASH"},
                        {"AttributeName": "SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["n", "owner", "tags"]},
                },
            ],
        )
        for i in range(30):
            ddb.put_item(
                TableName="t",
                Item={
                    "PK": {"S": f"P{i}"},
                    "SK": {"S": f"{i:03d}"},
                    "G": {"S": "g"},
                    "n": {"N": str(i)},
                    "tags": {
                        "M": {
                            "language": {"M": {"value": {"S": "en"}, "confidence": {"N": "0.5"}}},
                            "intent": {"M": {"value": {"S": "complaint"}}},
                        }
                    },
                    "l": {"L": [{"S": "a"}, {"N": "1"}]},
                    "owner": {"NULL": True} if i % 2 else {"S": "maria"},
                    "b": {"BOOL": i % 3 == 0},
                    "ss": {"SS": ["x", "y"]},
                },
            )
        yield ddb


def both(call: Any) -> tuple[Any, Any]:
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    patched = call()
    project, serialized = dynamo_type.Item.project, DynamoHandler.serialized
    all_items, sorted_items = Table.all_items, Table.sorted_items
    dynamo_type.Item.project = moto_patches.ORIGINALS["Item.project"]
    DynamoHandler.serialized = moto_patches.ORIGINALS["DynamoHandler.serialized"]
    Table.all_items, Table.sorted_items = (
        moto_patches.ORIGINALS["Table.all_items"],
        moto_patches.ORIGINALS["Table.sorted_items"],
    )
    try:
        plain = call()
    finally:
        dynamo_type.Item.project, DynamoHandler.serialized = project, serialized
        Table.all_items, Table.sorted_items = all_items, sorted_items
    patched.pop("ResponseMetadata"), plain.pop("ResponseMetadata")
    return _sets_sorted(patched), _sets_sorted(plain)


def _sets_sorted(value: Any) -> Any:
    """DynamoDB sets (SS, NS, BS) have no order, and moto's follows string hashing, which changes from
    one interpreter to the next: compare them sorted."""
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else _sets_sorted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sets_sorted(v) for v in value]
    return value


def test_projected_index_queries_filters_scans_and_batch_reads_are_unchanged(table):
    query = dict(
        TableName="t", IndexName="ByG", KeyConditionExpression="G = :g", ExpressionAttributeValues={":g": {"S": "g"}}
    )
    calls = [
        lambda: table.query(**query, Limit=7),
        lambda: table.query(
            **query,
            ProjectionExpression="PK, n, tags.#l.#v, #o, l, ss",
            ExpressionAttributeNames={"#l": "language", "#v": "value", "#o": "owner"},
        ),
        lambda: table.query(
            **{**query, "ExpressionAttributeValues": {":g": {"S": "g"}, ":null": {"S": "NULL"}}},
            FilterExpression="attribute_type(#o, :null)",
            ExpressionAttributeNames={"#o": "owner"},
            Limit=12,
        ),
        lambda: table.scan(TableName="t", Limit=11),
        lambda: table.scan(
            TableName="t",
            FilterExpression="n >= :n",
            ExpressionAttributeValues={":n": {"N": "5"}},
            ExclusiveStartKey={"PK": {"S": "P2"}, "SK": {"S": "002"}},
        ),
        lambda: table.scan(TableName="t", IndexName="SomeByG", ProjectionExpression="PK, tags"),
        lambda: table.get_item(TableName="t", Key={"PK": {"S": "P3"}, "SK": {"S": "003"}}),
        lambda: table.get_item(TableName="t", Key={"PK": {"S": "nope"}, "SK": {"S": "x"}}),
        lambda: table.batch_get_item(
            RequestItems={
                "t": {
                    "Keys": [{"PK": {"S": f"P{i}"}, "SK": {"S": f"{i:03d}"}} for i in range(0, 30, 3)],
                    "ProjectionExpression": "PK, tags",
                }
            }
        ),
    ]
    for call in calls:
        patched, plain = both(call)
        assert patched == plain
        assert patched.get("Items") or patched.get("Item") or patched.get("Responses") or patched == {}


def test_projecting_index_answers_as_moto_does_and_follows_writes(table):
    """The projected, presorted partition a projecting index keeps is moto's answer, and a write to an
    item of the index (changed, joined, left, deleted) shows in the next query."""
    query = dict(
        TableName="t",
        IndexName="SomeByG",
        KeyConditionExpression="G = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
    )

    def check() -> dict[str, Any]:
        for call in (
            lambda: table.query(**query),
            lambda: table.query(**query, Limit=5, ScanIndexForward=False),
            lambda: table.query(
                **query, ProjectionExpression="PK, tags.#l", Limit=9, ExpressionAttributeNames={"#l": "language"}
            ),
        ):
            patched, plain = both(call)
            assert patched == plain
        return table.query(**query)

    # A partition read while empty (the first read of the index) gets its first item
    empty = dict(query, ExpressionAttributeValues={":g": {"S": "h"}})
    assert table.query(**empty)["Items"] == []
    table.put_item(TableName="t", Item={"PK": {"S": "first"}, "SK": {"S": "001"}, "G": {"S": "h"}})
    assert [i["PK"]["S"] for i in table.query(**empty)["Items"]] == ["first"]
    first = check()
    assert len(first["Items"]) == 30 and "l" not in first["Items"][0]  # INCLUDE: l is not projected
    table.update_item(
        TableName="t",
        Key={"PK": {"S": "P4"}, "SK": {"S": "004"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "99"}},
    )
    table.put_item(TableName="t", Item={"PK": {"S": "new"}, "SK": {"S": "000"}, "G": {"S": "g"}})
    table.update_item(TableName="t", Key={"PK": {"S": "P5"}, "SK": {"S": "005"}}, UpdateExpression="REMOVE G")
    table.delete_item(TableName="t", Key={"PK": {"S": "P6"}, "SK": {"S": "006"}})
    after = check()
    ids = [i["PK"]["S"] for i in after["Items"]]
    assert "new" in ids and "P5" not in ids and "P6" not in ids and len(ids) == 29
    assert next(i for i in after["Items"] if i["PK"]["S"] == "P4")["n"] == {"N": "99"}
