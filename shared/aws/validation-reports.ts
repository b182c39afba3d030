// AWS adapter (validation): every validation report in the vault, in run
// order, for `kura report validation` (and its --verify of the hash chain),
// the inventory report and the demo.
import { validationPrefix } from '../domain/validation-report.ts';
import type { Deps } from './deps.ts';
import { S3VaultObjects, type VaultObjects } from './vault-objects.ts';

export async function listReports(
  deps: Deps,
  vault: VaultObjects = new S3VaultObjects(deps.clients, deps.policy.vault.bucket),
): Promise<{ key: string; body: string }[]> {
  const keys = (await vault.list(validationPrefix(deps.policy.vault))).filter((k) =>
    k.endsWith('/report.json'),
  );
  const out: { key: string; body: string }[] = [];
  for (const key of keys) out.push({ key, body: (await vault.getText(key)) ?? '' });
  return out;
}
