"""Benchmark setup: kura's emulator with the bench source already in it.

Seeding 100k objects through moto's HTTP front (PutObject, 64 at a time) took
~36 minutes on this machine: moto handles one request at a time under the GIL
and spends most of it parsing and answering HTTP. Seeding is setup, not what
the benchmark measures, so this launcher writes the objects into moto's own S3
backend in-process (the calls moto's PutObject handler makes: put_object, then
set_metadata), then serves as local/moto/serve.py does. Every request the
benchmark counts still goes over HTTP.

Env: KURA_BENCH_SEED = {"bucket": ..., "region": ..., "prefix": ..., "objects": N}
Objects are those of bench/content/support.ts benchSource (version 0).
"""

from __future__ import annotations

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "local", "moto"))


def body(key: str, version: int) -> bytes:
    # Buffer.alloc(size, fill) repeats the fill's UTF-8 bytes up to size.
    fill = f"{key}#{version}".encode()
    size = 1024 + (len(key) % 7) * 100
    return (fill * (size // len(fill) + 1))[:size]


def seed(spec: dict) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.s3.utils import metadata_from_headers

    backend = s3_backends[os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)]["aws"]
    backend.create_bucket(spec["bucket"], spec["region"])
    t0 = time.time()
    for i in range(spec["objects"]):
        k = f"u/{i % 100:02d}/img-{i:06d}.jpg"
        key = backend.put_object(spec["bucket"], spec["prefix"] + k, body(k, 0))
        key.set_metadata(
            metadata_from_headers(
                {
                    "Content-Type": "image/jpeg",
                    "x-amz-meta-mode": "33188",
                    "x-amz-meta-uid": "1000",
                    "x-amz-meta-gid": "1000",
                    "x-amz-meta-mtime": str(1_763_000_000),
                }
            )
        )
    sys.stderr.write(f"seeded {spec['objects']} objects in-process in {time.time() - t0:.1f} s\n")


def main() -> None:
    import kura_moto

    kura_moto.apply()
    spec = json.loads(os.environ["KURA_BENCH_SEED"])
    seed(spec)
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
