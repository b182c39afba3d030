"""Simulated time for the emulator.

AWS takes minutes to hours to finish a snapshot, an image, a copy or a
restore; moto finishes them at once. kura's local runs simulate days and weeks
in seconds, so the emulator cannot use the wall clock either. Every request
from kura's local composition roots carries the caller's simulated time in
`x-kura-simulated-time` (epoch milliseconds); a resource created by a request
records when it will be done (that time plus the duration of its kind), and
every later request sees it in progress until its own simulated time has
passed that point. Requests without the header use the wall clock.

How long each kind of work takes is configurable: defaults below, overridden
for the whole emulator by the KURA_EMULATOR_DURATIONS environment variable
(JSON object of kind -> seconds) and for the resources one request creates by
`x-kura-durations` (`instant`, or `kind=seconds,kind=seconds`). Instant
completion is a special case a test asks for; it is never the default.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from typing import Any

HEADER_TIME = "HTTP_X_KURA_SIMULATED_TIME"
HEADER_DURATIONS = "HTTP_X_KURA_DURATIONS"

# Seconds. Conservative middles of what AWS documents or operators see for
# small resources; real databases and volumes take longer, never less.
DEFAULT_DURATIONS: dict[str, float] = {
    # CreateDBSnapshot: minutes for a small instance (the first one copies
    # every block), hours for a large one.
    "rds.snapshot": 15 * 60,
    # CreateDBClusterSnapshot: Aurora snapshots are incremental, still minutes.
    "rds.cluster-snapshot": 5 * 60,
    # CopyDBSnapshot / CopyDBClusterSnapshot within a region (another account
    # or another key): a full copy of the data, minutes for a small database.
    "rds.snapshot-copy": 10 * 60,
    # The same across regions: the data crosses the network, tens of minutes.
    "rds.snapshot-copy-region": 45 * 60,
    # RestoreDBInstanceFromDBSnapshot / ...ToPointInTime: a new instance.
    "rds.restore": 10 * 60,
    # RestoreDBClusterFromSnapshot / ...ToPointInTime: the cluster volume.
    "rds.cluster-restore": 5 * 60,
    # CreateDBInstance into an Aurora cluster (a restored cluster's writer).
    "rds.cluster-instance": 8 * 60,
    # CreateImage: EBS snapshots of every volume, then the AMI.
    "ec2.image": 30 * 60,
    # CopyImage across regions.
    "ec2.image-copy": 60 * 60,
    # After DeregisterImage, its snapshots stay "in use" for a short while.
    "ec2.snapshot-release": 20,
    # RestoreObject, by storage class and retrieval tier (S3 user guide).
    "s3.restore.GLACIER.Expedited": 5 * 60,
    "s3.restore.GLACIER.Standard": 4 * 3600,
    "s3.restore.GLACIER.Bulk": 10 * 3600,
    "s3.restore.DEEP_ARCHIVE.Standard": 12 * 3600,
    "s3.restore.DEEP_ARCHIVE.Bulk": 48 * 3600,
}

_defaults: dict[str, float] = dict(DEFAULT_DURATIONS)
_request = threading.local()


def configure_from_environment() -> None:
    raw = os.environ.get("KURA_EMULATOR_DURATIONS")
    if not raw:
        return
    parsed = json.loads(raw)
    if not isinstance(parsed, dict):
        raise ValueError("KURA_EMULATOR_DURATIONS: expected a JSON object of kind -> seconds")
    for kind, seconds in parsed.items():
        if kind not in DEFAULT_DURATIONS:
            raise ValueError(f"KURA_EMULATOR_DURATIONS: unknown kind {kind!r}; expected one of {sorted(DEFAULT_DURATIONS)}")
        _defaults[kind] = float(seconds)


def parse_durations(value: str | None) -> str | dict[str, float] | None:
    if not value:
        return None
    if value.strip() == "instant":
        return "instant"
    out: dict[str, float] = {}
    for part in value.split(","):
        kind, _, seconds = part.strip().partition("=")
        if kind in DEFAULT_DURATIONS and seconds:
            out[kind] = float(seconds)
    return out


def now() -> float:
    """The current request's simulated time (epoch seconds), else the wall clock."""
    t = getattr(_request, "now", None)
    return t if t is not None else time.time()


def duration(kind: str) -> float:
    overrides = getattr(_request, "durations", None)
    if overrides == "instant":
        return 0.0
    if isinstance(overrides, dict) and kind in overrides:
        return overrides[kind]
    return _defaults.get(kind, 0.0)


def now_datetime() -> datetime.datetime:
    """The request's simulated time as moto keeps times (naive UTC)."""
    return datetime.datetime.fromtimestamp(now(), datetime.timezone.utc).replace(tzinfo=None)


# Creation times moto stamps with the wall clock: DB snapshots, instances and
# clusters (`created`, SnapshotCreateTime), AMIs (CreationDate), EBS snapshots (StartTime).
CREATION_ATTRIBUTES = ("created", "creation_date", "start_time")


def begin(obj: Any, kind: str, busy_status: str) -> None:
    """Marks `obj` as in progress (`busy_status`) until now + duration(kind), created now."""
    obj.__dict__["_kura_ready_at"] = now() + duration(kind)
    obj.__dict__["_kura_busy_status"] = busy_status
    for attr in CREATION_ATTRIBUTES:
        if attr in obj.__dict__:
            obj.__dict__[attr] = now_datetime()


def busy(obj: Any) -> str | None:
    """The in-progress status of `obj` at the request's time, or None when it is done."""
    ready = obj.__dict__.get("_kura_ready_at")
    if ready is None or now() >= ready:
        return None
    return obj.__dict__.get("_kura_busy_status")


def ready_at(obj: Any) -> float | None:
    return obj.__dict__.get("_kura_ready_at")


def install(app_class: Any) -> None:
    """Wraps the WSGI entry point so each request's simulated time is known to the models."""
    original = app_class.__call__

    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        raw = environ.get(HEADER_TIME)
        try:
            _request.now = float(raw) / 1000.0 if raw else None
        except ValueError:
            _request.now = None
        _request.durations = parse_durations(environ.get(HEADER_DURATIONS))
        try:
            return original(self, environ, start_response)
        finally:
            _request.now = None
            _request.durations = None

    app_class.__call__ = __call__


def timed_status(cls: Any, attr: str = "status", done: tuple[str, ...] = ("available",)) -> None:
    """Makes `cls.<attr>` report the in-progress status while `begin` says so.

    moto sets the final state at once (`self.status = "available"`, or a
    property that flips "creating" to "available" on first read); the value
    moto holds is kept and shown again once simulated time has passed.
    """
    existing = None
    for klass in cls.__mro__:
        if attr in klass.__dict__:
            existing = klass.__dict__[attr]
            break
    store = f"_kura_{attr}"

    if isinstance(existing, property):
        fget, fset = existing.fget, existing.fset

        def get_prop(self: Any) -> Any:
            b = busy(self)
            if b is not None:
                return b
            return fget(self) if fget else None

        def set_prop(self: Any, value: Any) -> None:
            if fset:
                fset(self, value)

        setattr(cls, attr, property(get_prop, set_prop))
        return

    def get_plain(self: Any) -> Any:
        value = self.__dict__.get(store)
        b = busy(self)
        if b is not None and (value is None or value in done or value == "creating"):
            return b
        return value

    def set_plain(self: Any, value: Any) -> None:
        self.__dict__[store] = value

    setattr(cls, attr, property(get_plain, set_plain))
