// AWS adapter (validation): every validation report in the vault (monthly
// runs; yearly rehearsals beside them), in run order, for `kura report validation` (and its --verify of the hash chain),
// the inventory report and the demo.
import { rehearsalPrefix, validationPrefix } from '../domain/validation-report.ts';
import type { Deps } from './deps.ts';
import { S3VaultObjects, type VaultObjects } from './vault-objects.ts';

export async function listReports(
  deps: Deps,
  vault: VaultObjects = new S3VaultObjects(deps.clients, deps.policy.vault.bucket),
  prefix = validationPrefix(deps.policy.vault),
): Promise<{ key: string; body: string }[]> {
  const keys = (await vault.list(prefix)).filter((k) => k.endsWith('/report.json'));
  const out: { key: string; body: string }[] = [];
  for (const key of keys) out.push({ key, body: (await vault.getText(key)) ?? '' });
  return out;
}

/** Every yearly rehearsal report (their own hash chain, beside the monthly one), in run order. */
export function listRehearsalReports(
  deps: Deps,
  vault: VaultObjects = new S3VaultObjects(deps.clients, deps.policy.vault.bucket),
): Promise<{ key: string; body: string }[]> {
  return listReports(deps, vault, rehearsalPrefix(deps.policy.vault));
}
