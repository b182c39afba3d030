// AWS adapter: what kura needs to know about a KMS key before it shares or
// copies encrypted backups (who manages it, whether another account may use it).
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { KeyInfo } from '../domain/key-access.ts';
import type { Clients } from './clients.ts';

export { type KeyInfo, keyAllowsAccount } from '../domain/key-access.ts';

export interface KeyPort {
  describe(keyId: string, region?: string): Promise<KeyInfo>;
}

function principalsOf(policyJson: string): string[] {
  const doc = JSON.parse(policyJson) as { Statement?: { Effect?: string; Principal?: unknown }[] };
  const out = new Set<string>();
  for (const st of doc.Statement ?? []) {
    if (st.Effect !== 'Allow') continue;
    const p = st.Principal;
    const aws = p === '*' ? ['*'] : (p as { AWS?: string | string[] } | undefined)?.AWS;
    for (const a of Array.isArray(aws) ? aws : aws ? [aws] : []) {
      out.add(a === '*' ? '*' : (/(\d{12})/.exec(a)?.[1] ?? a));
    }
  }
  return [...out];
}

export class KmsAdapter implements KeyPort {
  constructor(private readonly clients: Clients) {}

  async describe(keyId: string, region?: string): Promise<KeyInfo> {
    const kms = this.clients.get(KMSClient, region);
    const d = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    const meta = d.KeyMetadata;
    const manager = meta?.KeyManager === 'AWS' ? 'AWS' : 'CUSTOMER';
    let principalsAllowed: string[] = [];
    if (manager === 'CUSTOMER' && meta?.KeyId) {
      const pol = await kms.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default' }));
      principalsAllowed = pol.Policy ? principalsOf(pol.Policy) : [];
    }
    return { arn: meta?.Arn ?? keyId, manager, principalsAllowed };
  }
}
