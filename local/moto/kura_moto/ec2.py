"""EC2 images as AWS runs them: an image and its snapshots are `pending` for a
while, a pending image cannot be shared, copied or launched, snapshots are
tagged from CreateImage's TagSpecifications, CopyImage honours its
TagSpecifications, encryption and ClientToken, names are unique, and a
deregistered image's snapshots stay in use for a moment.

References: Amazon EC2 API Reference, CreateImage (TagSpecifications with
ResourceType image and snapshot), CopyImage (ClientToken, Encrypted,
KmsKeyId, TagSpecifications), DeregisterImage, DeleteSnapshot, EC2 error
codes (InvalidAMIID.Unavailable, InvalidAMIName.Duplicate,
InvalidSnapshot.InUse).
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.amis import Ami, AmiBackend
from moto.ec2.models.elastic_block_store import EBSBackend, Snapshot
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.models import iam_instance_profile as ec2_profile_model
from moto.ec2.responses import instances as ec2_instance_response
from moto.ec2.responses.amis import AmisResponse
from moto.iam.exceptions import NotFoundException as IamNotFound
from moto.servicequotas.models import ServiceQuotasBackend

from . import simtime
from .patch import arguments, patch

simtime.timed_status(Ami, "state", done=("available",))
simtime.timed_status(Snapshot, "status", done=("completed",))


def pending_image_error(ami_id: str, action: str) -> EC2ClientError:
    return EC2ClientError(
        "InvalidAMIID.Unavailable",
        f"The AMI ID '{ami_id}' is currently pending and may not be used for this operation ({action}).",
    )


def _duplicate_name(backend: Any, name: str | None) -> None:
    if not name:
        return
    for ami in backend.amis.values():
        if ami.name == name and ami.owner_id == backend.account_id:
            raise EC2ClientError(
                "InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI {ami.id}"
            )


def _tags_for(specs: list[dict[str, Any]], resource_type: str) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = []
    for spec in specs or []:
        if spec.get("ResourceType") == resource_type:
            tags += spec.get("Tags", [])
    return tags


def _begin_image(ami: Ami, kind: str) -> None:
    simtime.begin(ami, kind, "pending")
    simtime.begin(ami.ebs_snapshot, kind, "pending")


@patch(AmiBackend, "create_image")
def create_image(original: Any, self: Any, *args: Any, **kwargs: Any) -> Ami:
    """CreateImage: names are unique per account and region (InvalidAMIName.Duplicate);
    TagSpecifications of type `snapshot` tag the image's snapshots; the snapshots keep the
    instance volumes' encryption; image and snapshots are `pending` for a while."""
    a = arguments(original, (self, *args), kwargs)
    _duplicate_name(self, a.get("name"))
    specs = a.get("tag_specifications") or []
    snapshot_tags = _tags_for(specs, "snapshot")
    kwargs = {k: v for k, v in a.items() if k != "self"}
    kwargs["tag_specifications"] = [s for s in specs if s.get("ResourceType") != "snapshot"]
    ami = original(self, **kwargs)
    for tag in snapshot_tags:
        ami.ebs_snapshot.add_tag(tag["Key"], tag["Value"])
    instance = getattr(ami, "instance", None)
    if instance is not None:
        for _, device in instance.get_block_device_mapping:
            volume = self.volumes.get(getattr(device, "volume_id", None))
            if volume is not None and volume.encrypted:
                ami.ebs_snapshot.encrypted = True
                ami.ebs_snapshot.kms_key_id = volume.kms_key_id
            break
    _begin_image(ami, "ec2.image")
    return ami


@patch(AmisResponse, "copy_image")
def copy_image(original: Any, self: AmisResponse) -> Any:
    """CopyImage: a retried request with the same ClientToken returns the first copy; a
    pending source is refused (InvalidAMIID.Unavailable); TagSpecifications tag the copy and
    its snapshots; Encrypted/KmsKeyId encrypt the copy's snapshots; the copy is `pending`."""
    backend = self.ec2_backend
    token = self._get_param("ClientToken")
    tokens: dict[str, str] = backend.__dict__.setdefault("_kura_copy_tokens", {})
    if token and token in tokens and tokens[token] in backend.amis:
        from moto.core.responses import ActionResult

        return ActionResult({"ImageId": tokens[token]})
    source_region = self._get_param("SourceRegion")
    source_id = self._get_param("SourceImageId")
    from moto.ec2.models import ec2_backends

    source = ec2_backends[backend.account_id][source_region].amis.get(source_id)
    foreign = None if source is not None else _shared_source_image(backend, source_region, source_id)
    source = source or foreign
    if source is not None and simtime.busy(source):
        raise pending_image_error(source_id, "CopyImage")
    _duplicate_name(backend, self._get_param("Name"))
    if foreign is not None:
        from moto.core.responses import ActionResult
        from moto.ec2.utils import random_ami_id

        self.error_on_dryrun()
        new_id = random_ami_id()
        backend.amis[new_id] = Ami(
            backend,
            new_id,
            instance=None,
            source_ami=foreign,
            name=self._get_param("Name"),
            description=self._get_param("Description"),
        )
        result = ActionResult({"ImageId": new_id})
    else:
        result = original(self)
    image_id = result.result["ImageId"] if hasattr(result, "result") else None
    ami = backend.amis.get(image_id) if image_id else None
    if ami is not None:
        specs = self._get_param("TagSpecifications", [])
        for tag in _tags_for(specs, "image"):
            ami.add_tag(tag["Key"], tag["Value"])
        for tag in _tags_for(specs, "snapshot"):
            ami.ebs_snapshot.add_tag(tag["Key"], tag["Value"])
        encrypted = str(self._get_param("Encrypted", "false")).lower() == "true"
        source_encrypted = source is not None and bool(getattr(source.ebs_snapshot, "encrypted", False))
        if encrypted or source_encrypted:
            ami.ebs_snapshot.encrypted = True
            # Without KmsKeyId the copy is encrypted with the caller's own default EBS key
            # (a key of another account is never the copy's key).
            ami.ebs_snapshot.kms_key_id = self._get_param("KmsKeyId") or (
                source.ebs_snapshot.kms_key_id
                if source_encrypted and foreign is None and source is not None
                else backend._create_default_encryption_key()
                if foreign is not None
                else None
            )
        if token:
            tokens[token] = ami.id
        _begin_image(ami, "ec2.image-copy")
    return result


@patch(AmiBackend, "modify_image_attribute")
def modify_image_attribute(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    """ModifyImageAttribute (launch permissions) is refused while the image is pending
    (InvalidAMIID.Unavailable: "currently pending and may not be used for this operation")."""
    a = arguments(original, (self, *args), kwargs)
    ami = self.amis.get(a["ami_id"])
    if ami is not None and simtime.busy(ami):
        raise pending_image_error(a["ami_id"], "ModifyImageAttribute")
    return original(self, *args, **kwargs)


@patch(InstanceBackend, "run_instances")
def run_instances(original: Any, self: Any, image_id: str, *args: Any, **kwargs: Any) -> Any:
    """RunInstances of a pending image is refused (InvalidAMIID.Unavailable), also of one
    another account shared (launch permission); one of another account that is not shared
    with the caller is not found (InvalidAMIID.NotFound)."""
    ami = self.amis.get(image_id) or shared_image(self, image_id)
    if ami is None and any(image_id in other.amis for other in _other_backends(self)):
        raise EC2ClientError("InvalidAMIID.NotFound", f"The image id '[{image_id}]' does not exist")
    if ami is not None and simtime.busy(ami):
        raise pending_image_error(image_id, "RunInstances")
    return original(self, image_id, *args, **kwargs)


@patch(AmiBackend, "deregister_image")
def deregister_image(original: Any, self: Any, ami_id: str, *args: Any, **kwargs: Any) -> Any:
    """DeregisterImage: the image's snapshots are released a moment later; a DeleteSnapshot
    right after is refused with InvalidSnapshot.InUse meanwhile."""
    ami = self.amis.get(ami_id)
    out = original(self, ami_id, *args, **kwargs)
    if ami is not None:
        snap = ami.ebs_snapshot
        snap.__dict__["_kura_in_use_until"] = simtime.now() + simtime.duration("ec2.snapshot-release")
        snap.__dict__["_kura_in_use_by"] = ami_id
    return out


@patch(EBSBackend, "delete_snapshot")
def delete_snapshot(original: Any, self: Any, snapshot_id: str) -> Any:
    """DeleteSnapshot: InvalidSnapshot.InUse while an image uses the snapshot, including the
    moment after DeregisterImage before EC2 has released it."""
    snap = self.snapshots.get(snapshot_id)
    if snap is not None and simtime.now() < snap.__dict__.get("_kura_in_use_until", 0):
        raise EC2ClientError(
            "InvalidSnapshot.InUse",
            f"The snapshot {snapshot_id} is currently in use by {snap.__dict__.get('_kura_in_use_by')}",
        )
    return original(self, snapshot_id)


# Service Quotas: the EC2 quota kura's restore pre-flight reads (Service Quotas
# User Guide; EC2 "On-Demand Instance quotas": L-1216C47A, in vCPUs).
EC2_ON_DEMAND_STANDARD = {
    "Adjustable": True,
    "GlobalQuota": False,
    "QuotaCode": "L-1216C47A",
    "QuotaName": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
    "ServiceCode": "ec2",
    "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
    "Unit": "None",
    "Value": 64.0,
}


@patch(ServiceQuotasBackend, "get_service_quota")
def get_service_quota(original: Any, self: Any, service_code: str, quota_code: str) -> dict[str, Any]:
    """GetServiceQuota answers EC2's Running On-Demand Standard instances quota (L-1216C47A,
    64 vCPUs here), which moto does not serve."""
    if service_code == "ec2" and quota_code == EC2_ON_DEMAND_STANDARD["QuotaCode"]:
        arn = f"arn:aws:servicequotas:{self.region_name}:{self.account_id}:ec2/{quota_code}"
        return {**EC2_ON_DEMAND_STANDARD, "QuotaArn": arn}
    return original(self, service_code, quota_code)


# --- Amazon's public images ---------------------------------------------------

# The images of Amazon kura launches itself (the restore's jump host: Amazon
# Linux 2023). The launcher turns moto's default images off (thousands of
# them make every DescribeImages slow); AWS always shows Amazon's.
AMAZON_IMAGE_PREFIXES = ("al2023-ami-2023.",)


@patch(AmiBackend, "_load_amis")
def load_amis(original: Any, self: Any) -> None:
    """Amazon's public Amazon Linux 2023 images are visible in every account and region
    (owner alias `amazon`, DescribeImages Owners=amazon), as on AWS, even when moto's
    default images are not loaded (MOTO_EC2_LOAD_DEFAULT_AMIS=false)."""
    original(self)
    from moto.core.parse import default_timestamp_parser
    from moto.utilities.utils import load_resource

    try:
        latest = load_resource("moto.ec2.models.amis", f"../resources/latest_amis/{self.region_name}.json")
    except FileNotFoundError:
        return
    for ami in latest:
        if ami["ami_id"] in self.amis or not str(ami.get("name") or "").startswith(AMAZON_IMAGE_PREFIXES):
            continue
        ami = {**ami, "owner_alias": "amazon"}
        if ami.get("creation_date"):
            ami["creation_date"] = default_timestamp_parser(ami["creation_date"])
        self.amis[ami["ami_id"]] = Ami(self, **ami)


# --- instance profiles ------------------------------------------------------


@patch(ec2_instance_response, "filter_iam_instance_profiles")
@patch(ec2_profile_model, "filter_iam_instance_profiles")
def filter_iam_instance_profiles(original: Any, *args: Any, **kwargs: Any) -> Any:
    """RunInstances and AssociateIamInstanceProfile name a profile that does not exist:
    EC2 answers InvalidParameterValue ("Value (…) for parameter iamInstanceProfile.name is
    invalid. Invalid IAM Instance Profile name"), not IAM's NoSuchEntity (EC2 API Reference,
    RunInstances, IamInstanceProfile; EC2 error codes)."""
    try:
        return original(*args, **kwargs)
    except IamNotFound:
        a = arguments(original, args, kwargs)
        by_arn = bool(a.get("iam_instance_profile_arn"))
        value = a.get("iam_instance_profile_arn") if by_arn else a.get("iam_instance_profile_name")
        field = "arn" if by_arn else "name"
        raise EC2ClientError(
            "InvalidParameterValue",
            f"Value ({value}) for parameter iamInstanceProfile.{field} is invalid. Invalid IAM Instance Profile {field}",
        ) from None


# --- images and snapshots shared by another account --------------------------


def _other_backends(backend: Any) -> list[Any]:
    """The same region's EC2 backends of every other account."""
    from moto.ec2.models import ec2_backends

    out = []
    for account, regions in ec2_backends.items():
        if account == backend.account_id:
            continue
        other = regions.get(backend.region_name) if hasattr(regions, "get") else None
        if other is not None:
            out.append(other)
    return out


def _image_shared_with(ami: Ami, account_id: str) -> bool:
    return {"UserId": account_id} in ami.launch_permissions or {"Group": "all"} in ami.launch_permissions


def shared_image(backend: Any, ami_id: str) -> Ami | None:
    """An image of another account whose launch permissions name this account."""
    for other in _other_backends(backend):
        ami = other.amis.get(ami_id)
        if ami is not None and _image_shared_with(ami, backend.account_id):
            return ami
    return None


@patch(AmiBackend, "describe_images")
def describe_images(original: Any, self: Any, ami_ids: Any = None, filters: Any = None, exec_users: Any = None, owners: Any = None) -> list[Ami]:
    """DescribeImages shows images other accounts shared with the caller: by id, and with
    ExecutableUsers=self (EC2 user guide, "Find shared AMIs")."""
    ami_ids = list(ami_ids or [])
    foreign = [a for a in (shared_image(self, i) for i in ami_ids if i not in self.amis) if a is not None]
    local_ids = [i for i in ami_ids if i not in {a.id for a in foreign}]
    if ami_ids and not local_ids:
        images: list[Ami] = []
    else:
        images = original(self, ami_ids=local_ids, filters=filters, exec_users=exec_users, owners=owners)
    if exec_users and any(u in ("self", self.account_id) for u in exec_users):
        from moto.ec2.utils import generic_filter

        seen = {a.id for a in images}
        extra = [
            ami
            for other in _other_backends(self)
            for ami in other.amis.values()
            if ami.id not in seen and _image_shared_with(ami, self.account_id)
        ]
        images += generic_filter(filters, extra) if filters else extra
    return images + foreign


@patch(EBSBackend, "get_snapshot")
def get_snapshot(original: Any, self: Any, snapshot_id: str) -> Snapshot:
    """A snapshot another account shared (createVolumePermission) can be used by the caller,
    for example in a BlockDeviceMapping of RunInstances."""
    try:
        return original(self, snapshot_id)
    except EC2ClientError:
        for other in _other_backends(self):
            snap = other.snapshots.get(snapshot_id)
            if snap is not None and (
                self.account_id in snap.create_volume_permission_userids
                or "all" in snap.create_volume_permission_groups
            ):
                return snap
        raise


# --- CopyImage of an image another account shared ------------------------------


def _is_default_ebs_key(account_id: str, region: str, key_id: str | None) -> bool:
    """The account's AWS managed EBS key (alias/aws/ebs); an encrypted snapshot without a
    key id is encrypted with it."""
    if not key_id or key_id.endswith("alias/aws/ebs"):
        return True
    from moto.kms import kms_backends

    kms = kms_backends[account_id][region]
    if not kms.alias_exists("alias/aws/ebs"):
        return False
    default = kms.describe_key("alias/aws/ebs")
    return key_id.split("/")[-1] == default.id


def _shared_source_image(backend: Any, source_region: str, ami_id: str) -> Ami | None:
    """CopyImage of an image owned by another account (EC2 User Guide, "Copy an AMI",
    cross-account copying; EC2 API Reference, CopyImage): the owner must have shared the
    image with the caller (launch permission), else it does not exist for the caller
    (InvalidAMIID.NotFound); and the snapshots that back it (createVolumePermission),
    else the copy is refused; an encrypted snapshot must use a customer managed key the
    owner's key policy lets the caller use: one encrypted with the owner's AWS managed
    EBS key cannot be shared at all. moto's own CopyImage looks only in the caller's
    account. None: no account holds the image (moto's not-found answers)."""
    from moto.ec2.models import ec2_backends

    for account, regions in ec2_backends.items():
        if account == backend.account_id:
            continue
        owner = regions.get(source_region) if hasattr(regions, "get") else None
        ami = owner.amis.get(ami_id) if owner is not None else None
        if ami is None:
            continue
        if not _image_shared_with(ami, backend.account_id):
            raise EC2ClientError("InvalidAMIID.NotFound", f"The image id '[{ami_id}]' does not exist")
        snap = ami.ebs_snapshot
        if backend.account_id not in snap.create_volume_permission_userids and "all" not in (
            snap.create_volume_permission_groups
        ):
            raise EC2ClientError(
                "AuthFailure",
                f"Not authorized for snapshot {snap.id} of image {ami_id}: its owner has not granted "
                "createVolumePermission to this account",
            )
        if snap.encrypted and _is_default_ebs_key(account, source_region, snap.kms_key_id):
            raise EC2ClientError(
                "InvalidParameter",
                f"Snapshot {snap.id} of image {ami_id} is encrypted with the default AWS managed EBS key "
                "of its owner and cannot be used by another account",
            )
        return ami
    return None


@patch(EBSBackend, "add_create_volume_permission")
def add_create_volume_permission(original: Any, self: Any, snapshot_id: str, user_ids: Any, groups: Any) -> Any:
    """ModifySnapshotAttribute createVolumePermission add: a snapshot encrypted with the AWS
    managed EBS key (aws/ebs) cannot be shared (EBS User Guide, "Share an Amazon EBS
    snapshot": OperationNotPermitted)."""
    snap = self.get_snapshot(snapshot_id)
    if (user_ids or groups) and snap.encrypted and _is_default_ebs_key(self.account_id, self.region_name, snap.kms_key_id):
        raise EC2ClientError(
            "OperationNotPermitted", "Encrypted snapshots with EBS default key cannot be shared"
        )
    return original(self, snapshot_id, user_ids, groups)
