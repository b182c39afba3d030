# Emulator (local/): what AWS CloudFormation does with kura's templates and
# moto 5.2's CloudFormation does not. Without this, moto skips six resource
# types ("No Moto CloudFormation support for ...") and ignores properties of
# two more, so a stack created from the template would lack the vault's
# bucket policy, lifecycle and Object Lock, the schedules, the alarms, ...
#
# Each resource is made through the same moto backend call that the
# service's own API uses, from the template's properties as CloudFormation
# resolved them, so the stack reads back through the APIs as it would on AWS.
# Applied by kura_moto.apply() when kura's emulator starts (local/moto/serve.py).
import json

from moto.awslambda.models import lambda_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroup
from moto.ec2.models.subnets import Subnet
from moto.ec2.models.vpcs import VPCEndPoint
from moto.s3.models import FakeBucket, s3_backends
from moto.scheduler.models import scheduler_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition


def _true(value):
    return value is True or str(value).lower() == "true"


class _Made:
    """A resource CloudFormation made with make(): its physical id, and how deleting the stack undoes it."""

    TYPE = ""
    # The property that names the resource; without it, moto generates <stack>-<logical id>-<suffix>.
    NAME = ""

    def __init__(self, physical_id, undo=None):
        self._physical_id = physical_id
        self._undo = undo

    @property
    def physical_resource_id(self):
        return self._physical_id

    @classmethod
    def cloudformation_type(cls):
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls):
        return cls.NAME

    @classmethod
    def has_cfn_attr(cls, attr):
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        return cls(resource_name, cls.make(resource_name, cloudformation_json["Properties"], account_id, region_name))

    def delete(self, account_id, region_name):
        if self._undo:
            self._undo()


# Each class below subclasses CloudFormationModel directly: moto finds the
# resource types through CloudFormationModel.__subclasses__(). make() returns
# what undoes it, or None.


class BucketPolicy(_Made, CloudFormationModel):
    """AWS::S3::BucketPolicy: PutBucketPolicy on Bucket with PolicyDocument."""

    TYPE = "AWS::S3::BucketPolicy"

    @staticmethod
    def make(name, p, account_id, region_name):
        s3 = s3_backends[account_id][get_partition(region_name)]
        s3.put_bucket_policy(p["Bucket"], json.dumps(p["PolicyDocument"]).encode())
        return lambda: s3.delete_bucket_policy(p["Bucket"])


class TopicPolicy(_Made, CloudFormationModel):
    """AWS::SNS::TopicPolicy: the Policy attribute of every topic in Topics."""

    TYPE = "AWS::SNS::TopicPolicy"

    @staticmethod
    def make(name, p, account_id, region_name):
        sns = sns_backends[account_id][region_name]
        for arn in p["Topics"]:
            sns.set_topic_attribute(arn, "policy", json.dumps(p["PolicyDocument"]))


class QueuePolicy(_Made, CloudFormationModel):
    """AWS::SQS::QueuePolicy: the Policy attribute of every queue in Queues (queue URLs)."""

    TYPE = "AWS::SQS::QueuePolicy"

    @staticmethod
    def make(name, p, account_id, region_name):
        sqs = sqs_backends[account_id][region_name]
        for url in p["Queues"]:
            sqs.set_queue_attributes(url.rstrip("/").split("/")[-1], {"Policy": json.dumps(p["PolicyDocument"])})


class Schedule(_Made, CloudFormationModel):
    """AWS::Scheduler::Schedule: CreateSchedule; its physical id is the schedule's name."""

    TYPE = "AWS::Scheduler::Schedule"
    NAME = "Name"

    @staticmethod
    def make(name, p, account_id, region_name):
        scheduler = scheduler_backends[account_id][region_name]
        scheduler.create_schedule(
            description=p.get("Description"),
            end_date=p.get("EndDate"),
            flexible_time_window=p["FlexibleTimeWindow"],
            group_name=p.get("GroupName"),
            kms_key_arn=p.get("KmsKeyArn"),
            name=name,
            schedule_expression=p["ScheduleExpression"],
            schedule_expression_timezone=p.get("ScheduleExpressionTimezone"),
            start_date=p.get("StartDate"),
            state=p.get("State", "ENABLED"),
            target=p["Target"],
            action_after_completion=None,
        )
        return lambda: scheduler.delete_schedule(p.get("GroupName"), name)


class MetricAlarm(_Made, CloudFormationModel):
    """AWS::CloudWatch::Alarm on one metric: PutMetricAlarm, named AlarmName or <stack>-<logical id>-<suffix>."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME = "AlarmName"

    @staticmethod
    def make(name, p, account_id, region_name):
        if "Metrics" in p:
            raise NotImplementedError("kura_moto: alarms on metric math (Metrics) are not reproduced")
        cloudwatch = cloudwatch_backends[account_id][region_name]
        cloudwatch.put_metric_alarm(
            name=name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=p["EvaluationPeriods"],
            period=p.get("Period"),
            threshold=p.get("Threshold"),
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []),
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            extended_statistic=p.get("ExtendedStatistic"),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            unit=p.get("Unit"),
            actions_enabled=_true(p.get("ActionsEnabled", True)),
            treat_missing_data=p.get("TreatMissingData"),
        )
        return lambda: cloudwatch.delete_alarms([name])


class EventInvokeConfig(_Made, CloudFormationModel):
    """AWS::Lambda::EventInvokeConfig: PutFunctionEventInvokeConfig (retries, event age, destinations)."""

    TYPE = "AWS::Lambda::EventInvokeConfig"

    @staticmethod
    def make(name, p, account_id, region_name):
        lam = lambda_backends[account_id][region_name]
        keys = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
        lam.put_function_event_invoke_config(p["FunctionName"], {k: p[k] for k in keys if k in p})
        return lambda: lam.delete_function_event_invoke_config(p["FunctionName"])


def _lifecycle_rule(r):
    """A CloudFormation lifecycle rule in the shape PutBucketLifecycleConfiguration hands moto's backend."""
    out = {"ID": r.get("Id"), "Status": r["Status"]}
    prefix = r.get("Prefix", "")
    size = r.get("ObjectSizeGreaterThan")
    tags = r.get("TagFilters") or []
    if size is not None or tags:
        both = {"Prefix": prefix}
        if size is not None:
            both["ObjectSizeGreaterThan"] = size
        if tags:
            both["Tag"] = [{"Key": t["Key"], "Value": t["Value"]} for t in tags]
        out["Filter"] = {"And": both}
    else:
        out["Filter"] = {"Prefix": prefix}
    expiration = {}
    if "ExpirationInDays" in r:
        expiration["Days"] = r["ExpirationInDays"]
    if "ExpirationDate" in r:
        expiration["Date"] = r["ExpirationDate"]
    if "ExpiredObjectDeleteMarker" in r:
        expiration["ExpiredObjectDeleteMarker"] = r["ExpiredObjectDeleteMarker"]
    if expiration:
        out["Expiration"] = expiration
    nve = r.get("NoncurrentVersionExpiration")
    if nve is None and "NoncurrentVersionExpirationInDays" in r:
        nve = {"NoncurrentDays": r["NoncurrentVersionExpirationInDays"]}
    if nve:
        out["NoncurrentVersionExpiration"] = {k: v for k, v in nve.items() if v is not None}
    transitions = list(r.get("Transitions") or []) + ([r["Transition"]] if "Transition" in r else [])
    if transitions:
        out["Transition"] = [
            {
                k: v
                for k, v in {
                    "Days": t.get("TransitionInDays"),
                    "Date": t.get("TransitionDate"),
                    "StorageClass": t["StorageClass"],
                }.items()
                if v is not None
            }
            for t in transitions
        ]
    nvts = list(r.get("NoncurrentVersionTransitions") or [])
    if "NoncurrentVersionTransition" in r:
        nvts.append(r["NoncurrentVersionTransition"])
    if nvts:
        out["NoncurrentVersionTransition"] = [
            {
                k: v
                for k, v in {
                    "NoncurrentDays": t["TransitionInDays"],
                    "StorageClass": t["StorageClass"],
                    "NewerNoncurrentVersions": t.get("NewerNoncurrentVersions"),
                }.items()
                if v is not None
            }
            for t in nvts
        ]
    if "AbortIncompleteMultipartUpload" in r:
        out["AbortIncompleteMultipartUpload"] = r["AbortIncompleteMultipartUpload"]
    return out


def _bucket_properties(bucket, p, account_id, region_name):
    """AWS::S3::Bucket properties moto's CloudFormation ignores (it applies BucketEncryption and Tags)."""
    s3 = s3_backends[account_id][get_partition(region_name)]
    name = bucket.name
    versioning = (p.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        s3.put_bucket_versioning(name, versioning)
    # ObjectLockEnabled: true creates the bucket with Object Lock, which turns versioning on.
    if _true(p.get("ObjectLockEnabled")):
        bucket.object_lock_enabled = True
        bucket.versioning_status = "Enabled"
    lock = p.get("ObjectLockConfiguration")
    if lock:
        retention = (lock.get("Rule") or {}).get("DefaultRetention") or {}
        s3.put_object_lock_configuration(
            name,
            lock.get("ObjectLockEnabled") == "Enabled",
            retention.get("Mode"),
            retention.get("Days"),
            retention.get("Years"),
        )
    pab = p.get("PublicAccessBlockConfiguration")
    if pab:
        s3.put_public_access_block(name, {k: str(_true(v)).lower() for k, v in pab.items()})
    for rule in (p.get("OwnershipControls") or {}).get("Rules") or []:
        s3.put_bucket_ownership_controls(name, ownership=rule["ObjectOwnership"])
    rules = (p.get("LifecycleConfiguration") or {}).get("Rules")
    if rules:
        s3.put_bucket_lifecycle(name, [_lifecycle_rule(r) for r in rules])


def _security_group_egress(group, p, account_id, region_name):
    """SecurityGroupEgress: as in CloudFormation, the template's rules replace the default allow-all egress."""
    egress = p.get("SecurityGroupEgress")
    if egress is None:
        return
    ec2 = ec2_backends[account_id][region_name]
    vpc_id = p.get("VpcId")
    ec2.revoke_security_group_egress(group.id, "-1", None, None, [{"CidrIp": "0.0.0.0/0"}], vpc_id=vpc_id)
    for e in egress:
        ec2.authorize_security_group_egress(
            group_name_or_id=group.id,
            ip_protocol=str(e["IpProtocol"]),
            from_port=e.get("FromPort"),
            to_port=e.get("ToPort"),
            ip_ranges=[{"CidrIp": e["CidrIp"], "Description": e.get("Description")}] if "CidrIp" in e else [],
            source_groups=[{"GroupId": e["DestinationSecurityGroupId"]}] if "DestinationSecurityGroupId" in e else [],
            vpc_id=vpc_id,
        )


def _subnet_public_ip(subnet, p, account_id, region_name):
    """MapPublicIpOnLaunch: moto's CloudFormation leaves the subnet's default."""
    if "MapPublicIpOnLaunch" in p:
        ec2_backends[account_id][region_name].modify_subnet_attribute(
            subnet.id, "map_public_ip_on_launch", _true(p["MapPublicIpOnLaunch"])
        )


def _vpc_endpoint_tags(endpoint, p, account_id, region_name):
    """Tags: AWS applies an AWS::EC2::VPCEndpoint's Tags; moto's CloudFormation drops them."""
    tags = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
    if tags:
        ec2_backends[account_id][region_name].create_tags([endpoint.id], tags)


def _after_create(model, then):
    """Wraps a moto model's create_from_cloudformation_json to finish what it leaves out."""
    create = model.__dict__["create_from_cloudformation_json"].__func__

    def create_then(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        made = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        then(made, cloudformation_json.get("Properties") or {}, account_id, region_name)
        return made

    model.create_from_cloudformation_json = classmethod(create_then)


def apply() -> list[str]:
    """Registers the resource types and finishes the properties moto's CloudFormation leaves out; returns their summaries."""
    _after_create(FakeBucket, _bucket_properties)
    _after_create(SecurityGroup, _security_group_egress)
    _after_create(Subnet, _subnet_public_ip)
    _after_create(VPCEndPoint, _vpc_endpoint_tags)
    # The model lists are cached on first use; make sure they include the classes above.
    from moto.cloudformation import parsing

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    made = sorted(c.cloudformation_type() for c in _Made.__subclasses__())
    return [
        f"cloudformation: creates {', '.join(made)} (moto skips them)",
        "cloudformation: applies bucket lifecycle, policy and encryption, security group egress, subnet MapPublicIpOnLaunch and VPC endpoint tags from the template",
    ]
