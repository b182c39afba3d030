"""S3 as AWS runs it where kura depends on it: CopyObject into an Object Lock
bucket needs no checksum header (a copy has no body), lifecycle filters keep
ObjectSizeGreaterThan / ObjectSizeLessThan, and an archived object's restore
takes the hours its storage class and tier take.

References: Amazon S3 API Reference, CopyObject, PutObject ("Content-MD5 or
x-amz-sdk-checksum-algorithm is required for any request to upload an object
with a retention period configured using Amazon S3 Object Lock": an upload,
which CopyObject is not), LifecycleRuleFilter / LifecycleRuleAndOperator
(ObjectSizeGreaterThan, ObjectSizeLessThan), RestoreObject (Tier; errors
RestoreAlreadyInProgress, InvalidObjectState), and the S3 user guide
"Archive retrieval options" (Expedited 1-5 min, Standard 3-5 h, Bulk 5-12 h;
Deep Archive Standard within 12 h, Bulk within 48 h); PutObjectRetention and
the user guide "Object Lock: retention modes" (a COMPLIANCE retention cannot be
shortened or its mode changed by anyone; a GOVERNANCE one only with
s3:BypassGovernanceRetention and x-amz-bypass-governance-retention: true).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import threading
from typing import Any

import xmltodict
from moto.s3.exceptions import AccessDeniedByLock, NoSuchUpload, S3ClientError
from moto.s3.models import FakeBucket, FakeKey, S3Backend
from moto.s3.responses import S3Response
from werkzeug.datastructures import Headers

from . import simtime
from .patch import patch

_tier = threading.local()
SIZE_KEYS = ("ObjectSizeGreaterThan", "ObjectSizeLessThan")


@patch(S3Response, "_key_response_put")
def key_response_put(original: Any, self: S3Response, *args: Any, **kwargs: Any) -> Any:
    """CopyObject into a bucket with default Object Lock retention is accepted without
    Content-MD5 or a checksum header: those are required for uploads, and a copy carries
    no body (moto asks for them on every PUT with a lock)."""
    headers = self.headers
    if "x-amz-copy-source" in headers and not (
        headers.get("Content-Md5") or headers.get("x-amz-sdk-checksum-algorithm")
    ):
        mutable = Headers(headers)
        mutable["x-amz-sdk-checksum-algorithm"] = headers.get("x-amz-checksum-algorithm") or "CRC32"
        self.headers = mutable
    return original(self, *args, **kwargs)


@patch(FakeBucket, "set_lifecycle")
def set_lifecycle(original: Any, self: FakeBucket, rules: list[dict[str, Any]]) -> None:
    """PutBucketLifecycleConfiguration keeps ObjectSizeGreaterThan / ObjectSizeLessThan of a
    rule's Filter (or of its And operator), as S3 does; moto drops them."""
    original(self, rules)
    for rule, stored in zip(rules, self.rules, strict=False):
        flt = rule.get("Filter") or {}
        sizes: dict[str, Any] = {"where": "Filter", "values": {}}
        source = flt
        if isinstance(flt.get("And"), dict):
            sizes["where"] = "And"
            source = flt["And"]
        for key in SIZE_KEYS:
            if source.get(key) is not None:
                sizes["values"][key] = int(source[key])
        stored.__dict__["_kura_sizes"] = sizes


@patch(S3Response, "get_bucket_lifecycle")
def get_bucket_lifecycle(original: Any, self: S3Response) -> Any:
    """GetBucketLifecycleConfiguration returns the size conditions the rules were put with."""
    bucket = self.backend.get_bucket(self.bucket_name)
    real = self.serialized

    def serialized(action_result: Any) -> Any:
        result = action_result.result
        for out, stored in zip(result.get("Rules", []), bucket.rules or [], strict=False):
            sizes = stored.__dict__.get("_kura_sizes")
            if not sizes or not sizes["values"]:
                continue
            flt = out.setdefault("Filter", {})
            target = flt.setdefault("And", {}) if sizes["where"] == "And" else flt
            target.update(sizes["values"])
        return real(action_result)

    self.serialized = serialized  # type: ignore[method-assign]
    try:
        return original(self)
    finally:
        del self.serialized


@patch(S3Response, "_key_response_post")
def key_response_post(original: Any, self: S3Response, request: Any, body: Any, bucket_name: str, query: Any, key_name: str) -> Any:
    """RestoreObject: the request's retrieval tier decides how long the restore takes."""
    _tier.value = None
    if "restore" in query and body:
        try:
            params = xmltodict.parse(body)["RestoreRequest"] or {}
            _tier.value = (params.get("GlacierJobParameters") or {}).get("Tier") or params.get("Tier")
        except Exception:  # noqa: BLE001 - moto reports the malformed body itself
            _tier.value = None
    try:
        return original(self, request, body, bucket_name, query, key_name)
    finally:
        _tier.value = None


@patch(S3Backend, "restore_object")
def restore_object(original: Any, self: S3Backend, bucket_name: str, key_name: str, days: Any, type_: Any) -> bool:
    """RestoreObject: a second request while one is under way is refused with
    RestoreAlreadyInProgress (409)."""
    key = self.get_object(bucket_name, key_name)
    if key is not None and key.__dict__.get("_kura_restore_ready", 0) > simtime.now():
        raise S3ClientError(
            "RestoreAlreadyInProgress", "Object restore is already in progress", status_code=409
        )
    return original(self, bucket_name, key_name, days, type_)


@patch(FakeKey, "restore")
def key_restore(original: Any, self: FakeKey, days: int) -> None:
    """A restore completes after its storage class's and tier's retrieval time; the
    restored copy expires `days` after that."""
    original(self, days)
    tier = getattr(_tier, "value", None) or "Standard"
    ready = simtime.now() + simtime.duration(f"s3.restore.{self.storage_class}.{tier}")
    self.__dict__["_kura_restore_ready"] = ready
    self._expiry = datetime.datetime.fromtimestamp(ready, datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(days)


@patch(FakeKey, "status")
def key_status(prop: property) -> property:
    """x-amz-restore says ongoing-request="true" until the restore's time has passed."""

    def get(self: FakeKey) -> Any:
        ready = self.__dict__.get("_kura_restore_ready")
        if ready is not None:
            return "IN_PROGRESS" if simtime.now() < ready else "RESTORED"
        return prop.fget(self) if prop.fget else None

    return property(get, prop.fset)


# --- multipart copies with SHA-256 -------------------------------------------


def _intercept(response: S3Response, change: Any) -> Any:
    """Replaces `response.serialized` for one call so that `change` sees the result first."""
    real = response.serialized

    def serialized(action_result: Any) -> Any:
        change(action_result.result)
        return real(action_result)

    response.serialized = serialized  # type: ignore[method-assign]
    return real


@patch(S3Response, "upload_part_copy")
def upload_part_copy(original: Any, self: S3Response) -> Any:
    """UploadPartCopy into an upload created with ChecksumAlgorithm returns the part's
    checksum (CopyPartResult.ChecksumSHA256), as S3 does."""
    upload_id = self._get_param("uploadId")
    part_number = self._get_int_param("partNumber")

    def change(result: dict[str, Any]) -> None:
        multipart = self.backend.get_bucket(self.bucket_name).multiparts.get(upload_id)
        part = multipart.parts.get(part_number) if multipart else None
        algorithm = (multipart.metadata.get("x-amz-checksum-algorithm") or "") if multipart else ""
        if part is not None and algorithm.upper() == "SHA256":
            digest = hashlib.sha256(part.value).digest()
            result.setdefault("CopyPartResult", {})["ChecksumSHA256"] = base64.b64encode(digest).decode()

    real = _intercept(self, change)
    try:
        return original(self)
    finally:
        self.serialized = real  # type: ignore[method-assign]


@patch(S3Backend, "upload_part")
def upload_part(original: Any, self: S3Backend, bucket_name: str, multipart_id: str, *args: Any, **kwargs: Any) -> Any:
    """UploadPart to an upload that was completed or aborted answers 404 NoSuchUpload (UploadPart, Errors)."""
    if multipart_id not in self.get_bucket(bucket_name).multiparts:
        raise NoSuchUpload(upload_id=multipart_id)
    return original(self, bucket_name, multipart_id, *args, **kwargs)


@patch(S3Backend, "complete_multipart_upload")
def complete_multipart_upload(original: Any, self: S3Backend, *args: Any, **kwargs: Any) -> Any:
    """A composite checksum names its part count ("<base64>-N"), as S3 returns it."""
    key = original(self, *args, **kwargs)
    if key is not None and key.checksum_type == "COMPOSITE" and key.checksum_value and key.checksum_parts:
        if not str(key.checksum_value).endswith(f"-{key.checksum_parts}"):
            key.checksum_value = f"{key.checksum_value}-{key.checksum_parts}"
    return key


@patch(S3Response, "_key_response_post")
def complete_response(original: Any, self: S3Response, request: Any, body: Any, bucket_name: str, query: Any, key_name: str) -> Any:
    """CompleteMultipartUpload returns the object's checksum (ChecksumSHA256 and its type)."""
    if "uploadId" not in query:
        return original(self, request, body, bucket_name, query, key_name)

    def change(result: dict[str, Any]) -> None:
        key = self.backend.get_object(bucket_name, result.get("Key", key_name))
        if key is not None and key.checksum_value and (key.checksum_algorithm or "").upper() == "SHA256":
            result["ChecksumSHA256"] = key.checksum_value
            result["ChecksumType"] = key.checksum_type

    real = _intercept(self, change)
    try:
        return original(self, request, body, bucket_name, query, key_name)
    finally:
        self.serialized = real  # type: ignore[method-assign]


def _lock_until(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.datetime.strptime(str(value), fmt)
        except ValueError:
            continue
    return None


@patch(S3Response, "put_object_retention")
def put_object_retention(original: Any, self: S3Response) -> Any:
    """PutObjectRetention never shortens nor changes the mode of a COMPLIANCE retention still
    in force (AccessDenied, for every caller), and shortens or lifts a GOVERNANCE one only with
    x-amz-bypass-governance-retention: true; lengthening is always allowed. moto applies any."""
    key = self.backend.get_object(self.bucket_name, self.parse_key_name(), version_id=self._get_param("versionId"))
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    current = _lock_until(getattr(key, "lock_until", None)) if key else None
    if key is not None and current is not None and current > now and key.lock_mode in ("COMPLIANCE", "GOVERNANCE"):
        mode, until = self._mode_until_from_body()
        wanted = _lock_until(until)
        weaker = mode != key.lock_mode or wanted is None or wanted < current
        if mode == "COMPLIANCE" and key.lock_mode == "GOVERNANCE":
            weaker = wanted is None or wanted < current
        bypass = self.headers.get("x-amz-bypass-governance-retention", "").lower() == "true"
        if weaker and (key.lock_mode == "COMPLIANCE" or not bypass):
            raise AccessDeniedByLock()
    return original(self)


_OBJECT_TAGS: Any = None


@patch(S3Backend, "__init__")
def backend_init(original: Any, self: S3Backend, *args: Any, **kwargs: Any) -> None:
    """An object's tags belong to the object, whoever's credentials wrote or read them: a
    CopyObject by another account's role (a source account adding to the vault) copies the
    source's tags onto the copy (TaggingDirective COPY) or sets the request's (REPLACE), and
    the bucket owner then reads them with GetObjectTagging (CopyObject, x-amz-tagging-directive;
    GetObjectTagging). moto keeps tags per calling account, so such a copy's tags were held
    where the bucket owner never looked; bucket and object ARNs are global, so one store serves
    every account."""
    global _OBJECT_TAGS
    original(self, *args, **kwargs)
    if _OBJECT_TAGS is None:
        _OBJECT_TAGS = self.tagger
    self.tagger = _OBJECT_TAGS
