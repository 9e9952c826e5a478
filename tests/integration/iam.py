"""What a function's or task's role in template.yaml allows, checked against the AWS calls its code makes on moto
(moto does not enforce IAM, so without this a missing permission shows only in someone's account)."""
from __future__ import annotations

from contextlib import contextmanager
from fnmatch import fnmatchcase
from typing import Iterator

import boto3

from tests.conftest import BUCKET
from tools.aws.template import TEMPLATE_PATH, load_template

BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
# The IAM action each S3 API call the adapters make needs (others are "<service>:<Operation>").
S3_ACTIONS = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject",
              "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject",
              "CompleteMultipartUpload": "s3:PutObject", "ListObjectsV2": "s3:ListBucket",
              "DeleteObject": "s3:DeleteObject"}


def needed(service: str, operation: str, params: dict) -> list[tuple[str, str]]:
    """(IAM action, S3 key or listed prefix, "" elsewhere) that one API call needs."""
    if service != "s3":
        return [(f"{service}:{operation}", "")]
    if operation == "DeleteObjects":
        return [("s3:DeleteObject", item["Key"]) for item in params["Delete"]["Objects"]]
    return [(S3_ACTIONS[operation], params.get("Key", params.get("Prefix", "")))]


class CallRecorder:
    """Every call of every boto3 client made while `as_role(name)` is open, by the role's template resource."""

    def __init__(self) -> None:
        self.calls: dict[str, set[tuple[str, str]]] = {}
        self.role: str | None = None

    def register(self, client) -> None:
        service = client.meta.service_model.endpoint_prefix

        def record(params, model, **_):
            if self.role:
                self.calls.setdefault(self.role, set()).update(needed(service, model.name, params))
        client.meta.events.register("provide-client-params.*.*", record)

    @contextmanager
    def as_role(self, role: str) -> Iterator[None]:
        self.role = role
        try:
            yield
        finally:
            self.role = None

    def refused(self) -> dict[str, list[tuple[str, str]]]:
        """What each role's code did that its statements do not allow."""
        return {role: sorted(call for call in calls if not granted(role, *call))
                for role, calls in self.calls.items() if any(not granted(role, *call) for call in calls)}


@contextmanager
def recording_calls(monkeypatch) -> Iterator[CallRecorder]:
    recorder = CallRecorder()
    original = boto3.session.Session.client

    def client(session, *args, **kwargs):
        made = original(session, *args, **kwargs)
        recorder.register(made)
        return made
    monkeypatch.setattr(boto3.session.Session, "client", client)
    yield recorder


def statements(resource: str) -> list[dict]:
    properties = load_template(TEMPLATE_PATH)["Resources"][resource]["Properties"]
    documents = [policy.get("PolicyDocument", policy) for policy in properties.get("Policies", [])]
    return [statement for document in documents for statement in document.get("Statement", [])]


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _resolved(resource) -> str:
    if resource == {"Fn::GetAtt": ["DataBucket", "Arn"]}:
        return BUCKET_ARN
    return resource["Fn::Sub"].replace("${DataBucket.Arn}", BUCKET_ARN)


def granted(role: str, action: str, key: str) -> bool:
    """Whether the role's statements allow `action` (on `key`, for S3; for s3:ListBucket, the listed prefix)."""
    for statement in statements(role):
        if statement["Effect"] != "Allow" or action not in _listed(statement["Action"]):
            continue
        if not action.startswith("s3:"):
            return True  # Glue and the rest: scoped to the pipeline's database and workgroup in the template
        resources = [_resolved(resource) for resource in _listed(statement["Resource"])]
        if action == "s3:ListBucket":
            prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
            if BUCKET_ARN in resources and any(fnmatchcase(key, prefix) for prefix in prefixes):
                return True
        elif any(fnmatchcase(f"{BUCKET_ARN}/{key}", resource) for resource in resources):
            return True
    return False
