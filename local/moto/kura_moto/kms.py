"""KMS as AWS runs it where kura depends on it: the default keys AWS creates
for its services (alias/aws/rds, alias/aws/ebs, ...) are AWS managed keys.

Reference: AWS KMS Developer Guide, "AWS managed keys" (KeyManager AWS in
DescribeKey; their policy cannot be changed, so no other account can ever use
them: RDS snapshots and AMIs under them cannot be shared).
"""

from __future__ import annotations

from typing import Any

from moto.kms.models import KmsBackend

from .patch import patch


@patch(KmsBackend, "_generate_default_keys")
def generate_default_keys(original: Any, self: KmsBackend, alias_name: str) -> str | None:
    """A service's default key (alias/aws/<service>, made on first use) is AWS managed: DescribeKey
    answers KeyManager AWS, as kura checks before it shares what the key encrypts."""
    key_id = original(self, alias_name)
    if key_id is not None:
        self.keys[key_id].key_manager = "AWS"
    return key_id
