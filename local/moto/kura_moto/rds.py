"""RDS as AWS runs it: snapshots, copies and restores take time, actions on
them are refused meanwhile with RDS's own error codes, and a snapshot shared
by another account can be copied and restored by its ARN.

References: Amazon RDS API Reference, CreateDBSnapshot, CopyDBSnapshot,
CopyDBClusterSnapshot, DeleteDBSnapshot, ModifyDBSnapshotAttribute,
RestoreDBInstanceFromDBSnapshot, RestoreDBClusterFromSnapshot (errors
InvalidDBSnapshotState, InvalidDBClusterSnapshotStateFault,
InvalidDBInstanceState, InvalidDBClusterStateFault, KMSKeyNotAccessibleFault),
and the RDS user guide "Sharing a DB snapshot" (a shared snapshot is copied or
restored by its ARN; an encrypted one only with a customer-managed key whose
key policy lets the other account use it).
"""

from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.kms.models import kms_backends
from moto.kms.utils import RESERVED_ALIASE_TARGET_KEY_IDS
from moto.rds.exceptions import InvalidParameterValue, KMSKeyNotAccessibleFault, RDSClientError
from moto.core.responses import ActionResult
from moto.rds.responses import RDSResponse
from moto.rds.models import (
    DBCluster,
    DBClusterSnapshot,
    DBInstance,
    DBSnapshot,
    RDSBackend,
    rds_backends,
)

from . import simtime
from .patch import arguments, patch, provide

for _cls in (DBSnapshot, DBClusterSnapshot, DBInstance, DBCluster):
    simtime.timed_status(_cls)


def snapshot_state_error(snapshot: DBSnapshot, action: str) -> RDSClientError:
    return RDSClientError(
        "InvalidDBSnapshotState",
        f"Cannot {action} DB snapshot {snapshot.db_snapshot_identifier}: its status is {snapshot.status}, expected available.",
    )


def cluster_snapshot_state_error(snapshot: DBClusterSnapshot, action: str) -> RDSClientError:
    return RDSClientError(
        "InvalidDBClusterSnapshotStateFault",
        f"Cannot {action} DB cluster snapshot {snapshot.db_cluster_snapshot_identifier}: its status is {snapshot.status}, expected available.",
    )


def _arn_parts(identifier: str) -> tuple[str, str, str, str] | None:
    """(region, account, type, name) of an RDS ARN, else None."""
    if not identifier.startswith("arn:"):
        return None
    parts = identifier.split(":")
    if len(parts) < 7:
        return None
    return parts[3], parts[4], parts[5], parts[6]


# --- time ----------------------------------------------------------------


@patch(RDSBackend, "create_db_snapshot")
def create_db_snapshot(original: Any, self: RDSBackend, *args: Any, **kwargs: Any) -> DBSnapshot:
    """CreateDBSnapshot: a manual snapshot is `creating` for minutes before it is `available`;
    the instance must itself be available (InvalidDBInstanceState otherwise)."""
    a = arguments(original, (self, *args), kwargs)
    db = self.databases.get(a["db_instance_identifier"])
    if db is not None and simtime.busy(db):
        raise RDSClientError(
            "InvalidDBInstanceState",
            f"Cannot create a snapshot of {a['db_instance_identifier']}: the instance is {db.status}.",
        )
    snapshot = original(self, *args, **kwargs)
    if a.get("snapshot_type", "manual") == "manual":
        simtime.begin(snapshot, "rds.snapshot", "creating")
        # OriginalSnapshotCreateTime: when the snapshot was taken; a copy keeps it.
        if not a.get("original_created_at"):
            snapshot.original_snapshot_create_time = snapshot.created
    return snapshot


def _check_cluster_snapshot_identifier(identifier: str, parameter: str) -> None:
    """DBClusterSnapshotIdentifier: 1 to 63 letters, digits or hyphens, a letter first, no
    trailing or double hyphen (CreateDBClusterSnapshot, CopyDBClusterSnapshot constraints).
    moto checks an instance snapshot's 255 but no cluster snapshot's: a name that fits an
    instance snapshot passed for a cluster, and AWS refuses it."""
    if (
        re.fullmatch(r"[a-zA-Z][a-zA-Z0-9-]{0,62}", identifier)
        and "--" not in identifier
        and not identifier.endswith("-")
    ):
        return
    raise InvalidParameterValue(
        f"The parameter {parameter} is not a valid identifier. Identifiers must begin with a letter; "
        "must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain "
        "two consecutive hyphens."
    )


@patch(RDSBackend, "create_db_cluster_snapshot")
def create_db_cluster_snapshot(original: Any, self: RDSBackend, *args: Any, **kwargs: Any) -> DBClusterSnapshot:
    """CreateDBClusterSnapshot: a manual cluster snapshot is `creating` before it is `available`;
    the cluster must be available (InvalidDBClusterStateFault otherwise)."""
    a = arguments(original, (self, *args), kwargs)
    if a.get("snapshot_type", "manual") == "manual":  # automated ones are named by RDS (rds:…)
        _check_cluster_snapshot_identifier(a["db_cluster_snapshot_identifier"], "DBClusterSnapshotIdentifier")
    cluster = self.clusters.get(a["db_cluster_identifier"])
    if cluster is not None and simtime.busy(cluster):
        raise RDSClientError(
            "InvalidDBClusterStateFault",
            f"Cannot create a snapshot of cluster {a['db_cluster_identifier']}: it is {cluster.status}.",
        )
    snapshot = original(self, *args, **kwargs)
    if a.get("snapshot_type", "manual") == "manual":
        simtime.begin(snapshot, "rds.cluster-snapshot", "creating")
    return snapshot


@patch(RDSBackend, "copy_db_snapshot")
def copy_db_snapshot(original: Any, self: RDSBackend, *args: Any, **kwargs: Any) -> DBSnapshot:
    """CopyDBSnapshot: the source must be `available` (InvalidDBSnapshotState); the copy is in
    progress for a while; an encrypted snapshot shared by another account needs KmsKeyId."""
    a = arguments(original, (self, *args), kwargs)
    source = self.get_db_snapshot(a["source_db_snapshot_identifier"])
    if simtime.busy(source):
        raise snapshot_state_error(source, "copy")
    if _is_foreign(self, a["source_db_snapshot_identifier"]) and source.encrypted and not a.get("kms_key_id"):
        raise InvalidParameterValue(
            "KmsKeyId is required to copy an encrypted DB snapshot shared from another account."
        )
    _check_foreign_key(self, a["source_db_snapshot_identifier"], source)
    snapshot = original(self, *args, **kwargs)
    simtime.begin(snapshot, _copy_kind(self, a["source_db_snapshot_identifier"]), "copying")
    return snapshot


@patch(RDSBackend, "copy_db_cluster_snapshot")
def copy_db_cluster_snapshot(original: Any, self: RDSBackend, *args: Any, **kwargs: Any) -> DBClusterSnapshot:
    """CopyDBClusterSnapshot: the source must be `available` (InvalidDBClusterSnapshotStateFault);
    an unencrypted cluster snapshot cannot be copied with KmsKeyId ("an error is returned"), an
    encrypted one shared by another account must be; the copy is in progress for a while."""
    a = arguments(original, (self, *args), kwargs)
    _check_cluster_snapshot_identifier(a["target_db_cluster_snapshot_identifier"], "TargetDBClusterSnapshotIdentifier")
    source = self.get_db_cluster_snapshot(a["source_db_cluster_snapshot_identifier"])
    if simtime.busy(source):
        raise cluster_snapshot_state_error(source, "copy")
    if a.get("kms_key_id") and not source.encrypted:
        raise InvalidParameterValue(
            "You cannot encrypt an unencrypted DB cluster snapshot when you copy it: KmsKeyId must not be given."
        )
    if _is_foreign(self, a["source_db_cluster_snapshot_identifier"]) and source.encrypted and not a.get("kms_key_id"):
        raise InvalidParameterValue(
            "KmsKeyId is required to copy an encrypted DB cluster snapshot shared from another account."
        )
    _check_foreign_key(self, a["source_db_cluster_snapshot_identifier"], source)
    snapshot = original(self, *args, **kwargs)
    simtime.begin(snapshot, _copy_kind(self, a["source_db_cluster_snapshot_identifier"]), "copying")
    return snapshot


@patch(RDSBackend, "delete_db_snapshot")
def delete_db_snapshot(original: Any, self: RDSBackend, db_snapshot_identifier: str) -> DBSnapshot:
    """DeleteDBSnapshot: refused with InvalidDBSnapshotState while the snapshot is creating or copying."""
    snapshot = self.database_snapshots.get(db_snapshot_identifier)
    if snapshot is not None and simtime.busy(snapshot):
        raise snapshot_state_error(snapshot, "delete")
    return original(self, db_snapshot_identifier)


@patch(RDSBackend, "delete_db_cluster_snapshot")
def delete_db_cluster_snapshot(original: Any, self: RDSBackend, db_snapshot_identifier: str) -> DBClusterSnapshot:
    """DeleteDBClusterSnapshot: refused with InvalidDBClusterSnapshotStateFault while creating or copying."""
    snapshot = self.cluster_snapshots.get(db_snapshot_identifier)
    if snapshot is not None and simtime.busy(snapshot):
        raise cluster_snapshot_state_error(snapshot, "delete")
    return original(self, db_snapshot_identifier)


def _modify_attribute(original: Any, self: RDSBackend, a: dict[str, Any], snapshot: Any, state_error: Any) -> Any:
    if snapshot is not None and simtime.busy(snapshot):
        raise state_error(snapshot, "share")
    if snapshot is not None and a.get("attribute_name") == "restore" and a.get("values_to_add"):
        _check_shareable(snapshot, a["values_to_add"])
    if snapshot is not None and a.get("values_to_add"):
        present = snapshot.attributes.get(a["attribute_name"], [])
        a["values_to_add"] = [v for v in a["values_to_add"] if v not in present]
    a.pop("self", None)
    return original(self, **a)


@patch(RDSBackend, "modify_db_snapshot_attribute")
def modify_db_snapshot_attribute(original: Any, self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
    """ModifyDBSnapshotAttribute: refused with InvalidDBSnapshotState until the snapshot is
    available; adding an account that is already there is a no-op (no duplicate entry)."""
    a = arguments(original, (self, *args), kwargs)
    snapshot = self.database_snapshots.get(a["db_snapshot_identifier"])
    return _modify_attribute(original, self, a, snapshot, snapshot_state_error)


@patch(RDSBackend, "modify_db_cluster_snapshot_attribute")
def modify_db_cluster_snapshot_attribute(original: Any, self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
    """ModifyDBClusterSnapshotAttribute: refused with InvalidDBClusterSnapshotStateFault until
    available; adding an account already present is a no-op."""
    a = arguments(original, (self, *args), kwargs)
    snapshot = self.cluster_snapshots.get(a["db_cluster_snapshot_identifier"])
    return _modify_attribute(original, self, a, snapshot, cluster_snapshot_state_error)


@patch(RDSBackend, "create_db_instance")
def create_db_instance(original: Any, self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
    """CreateDBInstance into an Aurora cluster: the cluster must be available
    (InvalidDBClusterStateFault); the new member is `creating` for minutes."""
    cluster_id = db_kwargs.get("db_cluster_identifier")
    cluster = self.clusters.get(cluster_id) if cluster_id else None
    if cluster is not None and simtime.busy(cluster):
        raise RDSClientError(
            "InvalidDBClusterStateFault",
            f"Cannot add an instance to cluster {cluster_id}: it is {cluster.status}.",
        )
    instance = original(self, db_kwargs)
    if cluster_id:
        simtime.begin(instance, "rds.cluster-instance", "creating")
    return instance


@patch(RDSBackend, "create_db_cluster")
def create_db_cluster(original: Any, self: RDSBackend, kwargs: dict[str, Any]) -> DBCluster:
    """CreateDBCluster without StorageEncrypted: the cluster is unencrypted, and it and its
    snapshots carry no KmsKeyId (DescribeDBClusters: KmsKeyId is given "if StorageEncrypted
    is enabled"). moto gives every cluster the placeholder key "default_kms_key_id", which
    KMS does not know, and so marks its snapshots encrypted under it."""
    cluster = original(self, kwargs)
    if not cluster.storage_encrypted and cluster.kms_key_id == "default_kms_key_id":
        cluster.kms_key_id = None
    return cluster


@patch(RDSBackend, "modify_db_instance")
def modify_db_instance(original: Any, self: RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> DBInstance:
    """ModifyDBInstance: refused with InvalidDBInstanceState while the instance is creating."""
    db = self.databases.get(db_instance_identifier)
    if db is not None and simtime.busy(db):
        raise RDSClientError(
            "InvalidDBInstanceState", f"Cannot modify {db_instance_identifier}: the instance is {db.status}."
        )
    return original(self, db_instance_identifier, db_kwargs)


@patch(RDSBackend, "modify_db_cluster")
def modify_db_cluster(original: Any, self: RDSBackend, kwargs: dict[str, Any]) -> DBCluster:
    """ModifyDBCluster: refused with InvalidDBClusterStateFault while the cluster is creating."""
    cluster = self.clusters.get(kwargs.get("db_cluster_identifier"))
    if cluster is not None and simtime.busy(cluster):
        raise RDSClientError(
            "InvalidDBClusterStateFault",
            f"Cannot modify cluster {kwargs.get('db_cluster_identifier')}: it is {cluster.status}.",
        )
    return original(self, kwargs)


@patch(RDSBackend, "restore_db_instance_to_point_in_time")
def restore_db_instance_to_point_in_time(original: Any, self: RDSBackend, *args: Any, **kwargs: Any) -> DBInstance:
    """RestoreDBInstanceToPointInTime: the new instance is `creating` for minutes."""
    instance = original(self, *args, **kwargs)
    simtime.begin(instance, "rds.restore", "creating")
    return instance


@patch(RDSBackend, "restore_db_cluster_to_point_in_time")
def restore_db_cluster_to_point_in_time(original: Any, self: RDSBackend, *args: Any, **kwargs: Any) -> DBCluster:
    """RestoreDBClusterToPointInTime: the new cluster is `creating` for minutes."""
    cluster = original(self, *args, **kwargs)
    simtime.begin(cluster, "rds.cluster-restore", "creating")
    return cluster


# --- a snapshot shared by another account ---------------------------------


def _is_foreign(backend: RDSBackend, identifier: str) -> bool:
    parts = _arn_parts(identifier)
    return parts is not None and parts[1] != backend.account_id


def _copy_kind(backend: RDSBackend, source_identifier: str) -> str:
    """A copy from another region moves the data across regions and takes longer."""
    parts = _arn_parts(source_identifier)
    return "rds.snapshot-copy-region" if parts is not None and parts[0] != backend.region_name else "rds.snapshot-copy"


@contextmanager
def _visible(snapshots: dict[str, Any], name: str, snapshot: Any) -> Iterator[str]:
    if name in snapshots:
        raise InvalidParameterValue(
            f"The caller's account has a snapshot named {name} too; restore the shared one under a copy of another name."
        )
    snapshots[name] = snapshot
    try:
        yield name
    finally:
        snapshots.pop(name, None)


# --- the key of a shared encrypted snapshot ---------------------------------
# RDS user guide, "Sharing encrypted snapshots": a snapshot encrypted with the
# AWS managed key (aws/rds) cannot be shared; one encrypted with a
# customer-managed key can, with named accounts only (ModifyDBSnapshotAttribute:
# "You can't use all as a value ... in this case"), and the other account can
# copy or restore it only when the key policy lets it use the key (RDS then
# answers KMSKeyNotAccessibleFault). moto checks none of this.

_AWS_MANAGED_KEY_IDS = set(RESERVED_ALIASE_TARGET_KEY_IDS.values())


def _key_of(snapshot: Any) -> tuple[str, Any | None] | None:
    """(key id as recorded, the key in its owner's KMS or None when unknown); None when unencrypted."""
    key_id = getattr(snapshot, "kms_key_id", None)
    if not key_id or not (getattr(snapshot, "encrypted", False) or getattr(snapshot, "storage_encrypted", False)):
        return None
    owner = snapshot.backend
    kms = kms_backends.get(owner.account_id, {}).get(owner.region_name) if owner.account_id in kms_backends else None
    try:
        return key_id, kms.describe_key(key_id) if kms is not None else None
    except Exception:
        return key_id, None


def _aws_managed(key_id: str, key: Any | None) -> bool:
    if "alias/aws/" in key_id or key_id.split("/")[-1] in _AWS_MANAGED_KEY_IDS:
        return True
    return key is not None and getattr(key, "key_manager", "CUSTOMER") == "AWS"


def _check_shareable(snapshot: Any, accounts: list[str]) -> None:
    found = _key_of(snapshot)
    if found is None:
        return
    key_id, key = found
    if "all" in accounts:
        raise InvalidParameterValue("An encrypted snapshot cannot be made public: name the accounts to share it with.")
    if _aws_managed(key_id, key):
        raise InvalidParameterValue(
            f"The snapshot is encrypted with the AWS managed key {key_id}, which cannot be shared; "
            "copy it with a customer-managed key and share the copy."
        )


def _policy_lets(key: Any, account_id: str) -> bool:
    """Whether an Allow statement of the key policy names `account_id` (or everyone) for key use."""
    try:
        doc = json.loads(key.policy)
    except (TypeError, ValueError):
        return False
    statements = doc.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        aws = ["*"] if principal == "*" else (principal or {}).get("AWS", []) if isinstance(principal, dict) else []
        aws = aws if isinstance(aws, list) else [aws]
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        names = any(p == "*" or p == account_id or f":{account_id}:" in p for p in aws)
        uses = any(x in ("*", "kms:*", "kms:CreateGrant", "kms:Decrypt") for x in actions)
        if names and uses:
            return True
    return False


def _check_foreign_key(backend: RDSBackend, identifier: str, snapshot: Any) -> None:
    """Copying or restoring another account's encrypted snapshot needs its key: KMSKeyNotAccessibleFault otherwise."""
    if not _is_foreign(backend, identifier):
        return
    found = _key_of(snapshot)
    if found is None:
        return
    key_id, key = found
    if key is None or _aws_managed(key_id, key) or not _policy_lets(key, backend.account_id):
        raise KMSKeyNotAccessibleFault(key_id)


def _shared_with(snapshot: Any, account_id: str) -> bool:
    values = snapshot.attributes.get("restore", [])
    return account_id in values or "all" in values


@patch(RDSBackend, "get_snapshot")
def get_snapshot(original: Any, self: RDSBackend, identifier: str, resource_type: Any, not_found_exception: Any) -> Any:
    """A snapshot ARN of another account resolves in that account when the snapshot's
    `restore` attribute names the caller's account (RDS user guide, "Sharing a DB
    snapshot"); unshared, it is not found, as on AWS."""
    parts = _arn_parts(identifier)
    if parts is None or parts[1] == self.account_id:
        return original(self, identifier, resource_type, not_found_exception)
    region, account, _, name = parts
    owner = rds_backends.get(account, {}).get(region) if account in rds_backends else None
    snapshot = owner.resource_map[resource_type].get(name) if owner is not None else None
    if snapshot is None or not _shared_with(snapshot, self.account_id):
        raise not_found_exception(identifier)
    return snapshot


@patch(RDSBackend, "restore_db_instance_from_db_snapshot")
def restore_db_instance_from_db_snapshot(original: Any, self: RDSBackend, from_snapshot_id: str, overrides: dict[str, Any]) -> DBInstance:
    """RestoreDBInstanceFromDBSnapshot: the snapshot must be `available` (InvalidDBSnapshotState);
    a snapshot shared by another account is restored by its ARN; the instance is `creating`."""
    snapshot = self.get_db_snapshot(from_snapshot_id)
    if simtime.busy(snapshot):
        raise snapshot_state_error(snapshot, "restore")
    _check_foreign_key(self, from_snapshot_id, snapshot)
    if _is_foreign(self, from_snapshot_id):
        # moto restores from the caller's own snapshots only: the shared one is
        # visible there for the duration of this call, then removed again.
        with _visible(self.database_snapshots, snapshot.db_snapshot_identifier, snapshot) as name:
            instance = original(self, name, overrides)
    else:
        instance = original(self, from_snapshot_id, overrides)
    simtime.begin(instance, "rds.restore", "creating")
    return instance


@patch(RDSBackend, "restore_db_cluster_from_snapshot")
def restore_db_cluster_from_snapshot(original: Any, self: RDSBackend, from_snapshot_id: str, overrides: dict[str, Any]) -> DBCluster:
    """RestoreDBClusterFromSnapshot: the cluster snapshot must be `available`
    (InvalidDBClusterSnapshotStateFault); a shared one is restored by its ARN; the cluster
    is `creating`."""
    snapshot = self.get_db_cluster_snapshot(from_snapshot_id)
    if simtime.busy(snapshot):
        raise cluster_snapshot_state_error(snapshot, "restore")
    _check_foreign_key(self, from_snapshot_id, snapshot)
    if _is_foreign(self, from_snapshot_id):
        with _visible(self.cluster_snapshots, snapshot.db_cluster_snapshot_identifier, snapshot) as name:
            cluster = original(self, name, overrides)
    else:
        cluster = original(self, from_snapshot_id, overrides)
    if overrides.get("kms_key_id"):
        # KmsKeyId encrypts the restored cluster, also from an unencrypted snapshot.
        cluster.storage_encrypted = True
        cluster.kms_key_id = overrides["kms_key_id"]
    simtime.begin(cluster, "rds.cluster-restore", "creating")
    return cluster


# --- account quotas ---------------------------------------------------------

# RDS default quotas per account and region (RDS user guide, "Quotas in Amazon RDS"). moto
# refuses snapshots beyond MOTO_RDS_SNAPSHOT_LIMIT (kura's launcher sets it to AWS's 100
# unless told otherwise); the manual snapshot quotas reported are that limit.
def _snapshot_limit() -> int:
    return int(os.environ.get("MOTO_RDS_SNAPSHOT_LIMIT", "100"))


DEFAULT_QUOTAS = {"DBInstances": 40, "DBClusters": 40}


@provide(RDSResponse, "describe_account_attributes")
def describe_account_attributes(self: RDSResponse) -> ActionResult:
    """DescribeAccountAttributes: the account's RDS quotas in the region with their use
    (DBInstances, DBClusters, ManualSnapshots, ManualClusterSnapshots), as kura reads them."""
    backend = self.backend
    used = {
        "DBInstances": len(backend.databases),
        "DBClusters": len(backend.clusters),
        "ManualSnapshots": sum(1 for s in backend.database_snapshots.values() if s.snapshot_type == "manual"),
        "ManualClusterSnapshots": sum(1 for s in backend.cluster_snapshots.values() if s.snapshot_type == "manual"),
    }
    limits = {**DEFAULT_QUOTAS, "ManualSnapshots": _snapshot_limit(), "ManualClusterSnapshots": _snapshot_limit()}
    quotas = [{"AccountQuotaName": k, "Used": used[k], "Max": v} for k, v in limits.items()]
    return ActionResult({"AccountQuotas": quotas})


# --- point-in-time recovery: LatestRestorableTime --------------------------

# RDS uploads each database's transaction logs to S3 every 5 minutes, so the
# newest point a restore can reach trails the present by up to that interval.
TRANSACTION_LOG_UPLOAD_SECONDS = 300.0


def _trailing_latest_restorable_time(self: Any) -> datetime.datetime:
    return simtime.now_datetime() - datetime.timedelta(seconds=TRANSACTION_LOG_UPLOAD_SECONDS)


def _instance_latest_restorable_time(self: Any) -> datetime.datetime | None:
    # Automated backups off (BackupRetentionPeriod 0): no transaction logs, no point in
    # time to restore to (RestoreDBInstanceToPointInTime: PointInTimeRestoreNotEnabled),
    # and DescribeDBInstances gives no LatestRestorableTime.
    if not int(getattr(self, "backup_retention_period", 1) or 0):
        return None
    return _trailing_latest_restorable_time(self)


@patch(DBInstance, "latest_restorable_time")
def instance_latest_restorable_time(original: property) -> property:
    """LatestRestorableTime of a DB instance trails the present by the 5-minute
    transaction log upload interval (RDS user guide, "Restoring a DB instance to a
    specified time": typically within the last 5 minutes; DescribeDBInstances).
    moto answers the wall clock; here it is the request's time minus 5 minutes,
    and none while automated backups are off (retention 0)."""
    return property(_instance_latest_restorable_time)


@patch(DBCluster, "latest_restorable_time")
def cluster_latest_restorable_time(original: property) -> property:
    """LatestRestorableTime of an Aurora cluster trails the present by the 5-minute
    transaction log upload interval, as an instance's does (DescribeDBClusters).
    moto answers the wall clock; here it is the request's time minus 5 minutes."""
    return property(_trailing_latest_restorable_time)
