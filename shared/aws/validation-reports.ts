// AWS adapter (validation): every validation report in the vault (monthly
// runs; yearly rehearsals beside them), in run order, for `kura report validation` (and its --verify of the hash chain),
// the inventory report and the demo.
import { SealError } from '../domain/seals.ts';
import { type ChainEntry, rehearsalPrefix, validationPrefix } from '../domain/validation-report.ts';
import type { Deps } from './deps.ts';
import { vaultSeals } from './seals.ts';
import { S3VaultObjects, type VaultObjects } from './vault-objects.ts';

export async function listReports(
  deps: Deps,
  vault: VaultObjects = new S3VaultObjects(deps.clients, deps.policy.vault.bucket),
  prefix = validationPrefix(deps.policy.vault),
): Promise<ChainEntry[]> {
  const keys = (await vault.list(prefix)).filter((k) => k.endsWith('/report.json'));
  const out: ChainEntry[] = [];
  const seals = vaultSeals(vault);
  for (const key of keys) {
    const body = (await vault.getText(key)) ?? '';
    // Each report is held against its seal; one that fails is listed with the reason, never dropped.
    try {
      await seals.check(key, body);
      out.push({ key, body });
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      out.push({ key, body, sealProblem: err.message });
    }
  }
  return out;
}

/** Every yearly rehearsal report (their own hash chain, beside the monthly one), in run order. */
export function listRehearsalReports(
  deps: Deps,
  vault: VaultObjects = new S3VaultObjects(deps.clients, deps.policy.vault.bucket),
): Promise<ChainEntry[]> {
  return listReports(deps, vault, rehearsalPrefix(deps.policy.vault));
}
