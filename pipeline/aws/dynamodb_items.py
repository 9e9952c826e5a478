"""The ItemTable port on a DynamoDB table (the serving store), through an injected boto3 client.

Writes go 25 items a BatchWriteItem and reads 100 keys a BatchGetItem; what DynamoDB leaves unprocessed (throttled)
is sent again after a growing, jittered pause, and a batch still unprocessed after MAX_ATTEMPTS fails the call,
naming how many items. Numbers travel as Decimal, as DynamoDB requires, and come back as int or float.
"""
from __future__ import annotations

import json
import random
import time
from decimal import Decimal
from typing import Callable

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from pipeline.core.errors import PipelineError
from pipeline.warehouse.ports import Item

WRITE_BATCH, READ_BATCH = 25, 100  # DynamoDB's limits per call
MAX_ATTEMPTS = 8
BASE_PAUSE_SECONDS, MAX_PAUSE_SECONDS = 0.05, 5.0
_SERIALIZER, _DESERIALIZER = TypeSerializer(), TypeDeserializer()


class ServingStoreError(PipelineError):
    """DynamoDB kept refusing part of a batch (throttled past every retry)."""


class DynamoItems:
    def __init__(self, table_name: str, dynamodb_client, sleep: Callable[[float], None] = time.sleep):
        self.table_name = table_name
        self._dynamodb = dynamodb_client
        self._sleep = sleep

    def put_items(self, items: list[Item]) -> None:
        for start in range(0, len(items), WRITE_BATCH):
            requests = [{"PutRequest": {"Item": _encode(item)}} for item in items[start:start + WRITE_BATCH]]
            self._until_processed(lambda pending: self._dynamodb.batch_write_item(
                RequestItems={self.table_name: pending}).get("UnprocessedItems", {}).get(self.table_name, []),
                requests, "write")

    def get_items(self, keys: list[tuple[str, str]]) -> list[Item]:
        found: list[Item] = []
        unique = list(dict.fromkeys(keys))  # BatchGetItem refuses a key twice
        for start in range(0, len(unique), READ_BATCH):
            requests = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in unique[start:start + READ_BATCH]]

            def read(pending: list[dict]) -> list[dict]:
                answer = self._dynamodb.batch_get_item(RequestItems={self.table_name: {"Keys": pending}})
                found.extend(map(_decode, answer.get("Responses", {}).get(self.table_name, [])))
                return answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])

            self._until_processed(read, requests, "read")
        order = {key: index for index, key in enumerate(unique)}
        return sorted(found, key=lambda item: order[(item["pk"], item["sk"])])

    def put_unless_later(self, item: Item, field: str) -> bool:
        try:
            self._dynamodb.put_item(TableName=self.table_name, Item=_encode(item),
                                    ConditionExpression="attribute_not_exists(#field) OR #field <= :value",
                                    ExpressionAttributeNames={"#field": field},
                                    ExpressionAttributeValues={":value": _SERIALIZER.serialize(item[field])})
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def purge_expired(self) -> int:
        return 0  # the table's TTL attribute deletes expired items itself (reads skip those not yet deleted)

    def _until_processed(self, call: Callable[[list[dict]], list[dict]], pending: list[dict], what: str) -> None:
        for attempt in range(MAX_ATTEMPTS):
            pending = call(pending)
            if not pending:
                return
            self._sleep(random.uniform(0, min(MAX_PAUSE_SECONDS, BASE_PAUSE_SECONDS * 2 ** attempt)))
        raise ServingStoreError(f"DynamoDB table {self.table_name} left {len(pending)} item(s) of a batch {what} "
                                f"unprocessed after {MAX_ATTEMPTS} attempts (throttled): nothing points at them yet; "
                                "run the week again")


def _encode(item: Item) -> dict:
    plain = json.loads(json.dumps(item), parse_float=Decimal)  # DynamoDB takes no float
    return {name: _SERIALIZER.serialize(value) for name, value in plain.items()}


def _decode(item: dict) -> Item:
    return {name: _plain(_DESERIALIZER.deserialize(value)) for name, value in item.items()}


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(element) for element in value]
    if isinstance(value, dict):
        return {name: _plain(element) for name, element in value.items()}
    return value
