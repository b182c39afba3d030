// Domain (reports, compliance): the controls per source on its copies: the DR
// copy, the isolated account's use of it, and the vault's lock and lifecycle.
import type { Policy } from '../../../policy/schema.ts';
import { addDays, bothZones } from '../../../policy/calendar.ts';
import { occurrences } from '../../schedule-occurrences.ts';
import { CADENCE } from '../coverage.ts';
import { type ComplianceInput, type Control, type CopyEvidence, pick } from './model.ts';

function settled(i: ComplianceInput, cls: 'database' | 'image', source: string): CopyEvidence[] {
  const expr = i.policy.schedules[CADENCE[cls]];
  const last = expr ? occurrences(expr, i.policy.timezone, addDays(i.to, -70), i.to).at(-1) : undefined;
  return i.copies.filter(
    (c) => c.class === cls && c.source === source && (!last || Date.parse(c.time) < last.getTime()),
  );
}

export function drCopyControl(i: ComplianceInput, cls: 'database' | 'image', source: string): Control {
  const db = i.policy.database;
  const region =
    cls === 'database' ? db?.copy?.region : i.policy.images?.copyToDrRegion ? drRegion(i.policy) : undefined;
  const base = {
    area: cls,
    source,
    kind: 'dr-copy' as const,
    policyKey: cls === 'database' ? 'database.copy.region' : 'images.copyToDrRegion',
    requirement: region
      ? `every recovery point also in ${region} (a run later at most)`
      : 'no DR copy asked for',
  };
  if (!region)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'the policy asks for no copy in another region',
      why: `${base.policyKey} is not set`,
      evidence: [],
    });
  const points = settled(i, cls, source);
  const copies = i.inventory.points.filter(
    (p) => p.class === cls && p.source === source && p.region === region,
  );
  if (!points.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no point is older than the newest run yet',
      why: 'copies are made by the run after the point',
      evidence: [],
    });
  const missing = points.filter((p) => !copies.some((c) => c.time === p.time));
  const evidence = [
    `${points.length - missing.length} of ${points.length} point(s) have a copy in ${region}`,
  ];
  if (missing.length)
    return pick('FAIL', {
      ...base,
      finding: `${missing.length} point(s) without a copy in ${region}: ${missing.map((m) => `${m.id} (${bothZones(m.time, i.policy.timezone)})`).join(', ')}`,
      evidence,
    });
  return pick('PASS', { ...base, finding: `every settled point has its copy in ${region}`, evidence });
}

function drRegion(policy: Policy): string | undefined {
  return policy.images?.drRegion ?? policy.database?.copy?.region;
}

export function isolatedUseControl(i: ComplianceInput, cls: 'database' | 'image', source: string): Control {
  const iso = i.policy.isolatedAccount;
  const shares =
    cls === 'database'
      ? i.policy.database?.shareWithIsolatedAccount
      : i.policy.images?.shareWithIsolatedAccount;
  const base = {
    area: cls,
    source,
    kind: 'isolated-use' as const,
    policyKey: `isolatedAccount.accountId, ${cls === 'database' ? 'database' : 'images'}.shareWithIsolatedAccount`,
    requirement: shares
      ? `every recovery point shared with ${iso?.accountId}, its key usable there`
      : `every recovery point's key usable by ${iso?.accountId} (shared at restore time)`,
  };
  if (!iso)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no isolated account',
      why: 'isolatedAccount is not set',
      evidence: [],
    });
  const points = settled(i, cls, source);
  if (!points.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no point is older than the newest run yet',
      why: 'points are shared by the run after the point',
      evidence: [],
    });
  const problems: string[] = [];
  for (const p of points) {
    if (p.error) problems.push(`${p.id}: could not be read (${p.error})`);
    else if (shares && !p.sharedWithIsolated) problems.push(`${p.id} is not shared with ${iso.accountId}`);
    else if (p.encrypted && p.keyAllowsIsolated === 'aws-managed')
      problems.push(
        `${p.id} is encrypted with an AWS managed key (${p.keyArn}), which ${iso.accountId} can never use`,
      );
    else if (p.encrypted && p.keyAllowsIsolated === false)
      problems.push(`${p.id}: key ${p.keyArn} does not allow ${iso.accountId}`);
  }
  const evidence = [
    `${points.length - problems.length} of ${points.length} settled point(s) usable by ${iso.accountId}`,
    ...points
      .slice(-3)
      .map(
        (p) =>
          `${p.id}: ${p.sharedWithIsolated ? 'shared' : 'not shared'}${p.encrypted ? `, key ${p.keyArn ?? '?'} ${p.keyAllowsIsolated === true ? 'allows it' : 'does not allow it'}` : ', unencrypted'}`,
      ),
  ];
  if (problems.length) return pick('FAIL', { ...base, finding: problems.join('; '), evidence });
  return pick('PASS', {
    ...base,
    finding: `the isolated account ${iso.accountId} can restore every settled point`,
    evidence,
  });
}

export function lockLifecycleControl(i: ComplianceInput, area: 'content' | 'logs', name: string): Control {
  const n = i.policy.content.findIndex((c) => c.name === name);
  const base = {
    area,
    source: name,
    kind: 'lock-lifecycle' as const,
    policyKey:
      area === 'content'
        ? `content[${n}].generations, vault.objectLock`
        : `logs.classes.${name}.retainDays, logs.transitions, vault.objectLock`,
    requirement:
      'the vault keeps the class as long as the policy says: its lifecycle rules and the Object Lock default as generated',
  };
  const rep = i.lifecycle;
  if (!rep?.drift || rep.vault !== 'present')
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'the vault was not read',
      why:
        rep?.vault === 'absent'
          ? 'the vault bucket does not exist'
          : 'the vault configuration could not be read',
      evidence: rep?.notes ?? [],
    });
  const cls = rep.classes.find((c) => c.name === `${area}: ${name}`);
  const lock = rep.drift.filter((d) => /Object Lock|versioning/.test(d.check));
  const problems = [
    ...(cls?.rules ?? [])
      .filter((r) => r.onBucket === 'missing' || r.onBucket === 'differs')
      .map(
        (r) =>
          `rule ${r.id}: ${r.onBucket === 'missing' ? 'missing on the bucket' : r.differences.join('; ')}`,
      ),
    ...lock.filter((d) => !d.ok).map((d) => `${d.check}: expected ${d.expected}, found ${d.actual}`),
  ];
  const evidence = [
    ...(cls?.rules ?? []).map((r) => `rule ${r.id}: ${r.onBucket}`),
    ...lock.map((d) => `${d.check}: ${d.actual}`),
  ];
  if (problems.length) return pick('FAIL', { ...base, finding: problems.join('; '), evidence });
  return pick('PASS', { ...base, finding: 'every rule matches and Object Lock holds', evidence });
}
