// Named crash points per backup class: where an interrupted run hurts most
// (between create and what follows it, between copy and verify, between bundle
// upload and delete, mid-prune). Each is a rule over one step's requests; the step
// indexes refer to the scenarios in scenarios.ts.
import type { CrashRunOptions } from './harness.ts';
import type { ClassName } from './scenarios.ts';

export interface CrashPoint extends CrashRunOptions {
  name: string;
}

const op =
  (operation: string, nth = 1) =>
  (r: { operation: string; stepNth: number }) =>
    r.operation === operation && r.stepNth === nth;

export const CRASH_POINTS: Record<ClassName, CrashPoint[]> = {
  database: [
    { name: 'snapshot created, answer lost', step: 0, when: 'after', at: op('rds:CreateDBSnapshot') },
    { name: 'between snapshot and DR copy', step: 1, when: 'before', at: op('rds:CopyDBSnapshot') },
    { name: 'DR copy made, answer lost', step: 1, when: 'after', at: op('rds:CopyDBSnapshot') },
    { name: 'mid-prune: after the first delete', step: 3, when: 'after', at: op('rds:DeleteDBSnapshot') },
  ],
  content: [
    { name: 'between copy and manifest: first copy done', step: 0, when: 'after', at: op('s3:CopyObject') },
    { name: 'between copy and manifest: mid-copies', step: 1, when: 'after', at: op('s3:CopyObject', 2) },
    {
      name: 'summary written, index not',
      step: 1,
      when: 'before',
      at: (r) => r.operation === 's3:PutObject' && r.path.endsWith('.index.json'),
    },
    {
      name: 'mid-prune: index written, older generation not pruned',
      step: 2,
      when: 'after',
      at: (r) => r.operation === 's3:PutObject' && r.path.endsWith('.index.json'),
    },
  ],
  logs: [
    {
      name: 'archive: copied to the vault, landing not deleted',
      step: 0,
      when: 'after',
      at: op('s3:CopyObject', 3),
    },
    {
      name: 'archive: landing delete applied, answer lost',
      step: 0,
      when: 'after',
      at: op('s3:DeleteObject', 2),
    },
    {
      name: 'bundle uploaded, manifest not written',
      step: 1,
      when: 'before',
      at: (r) => r.operation === 's3:PutObject' && r.path.endsWith('.manifest.json'),
    },
    {
      name: 'bundle committed, originals not deleted',
      step: 1,
      when: 'after',
      at: (r) => r.operation === 's3:PutObject' && r.path.endsWith('.manifest.json'),
    },
    { name: 'bundle: mid-delete of originals', step: 1, when: 'after', at: op('s3:DeleteObject', 1) },
  ],
  image: [
    // CreateImage and CopyImage tag the image and its snapshots in the same request
    // (TagSpecifications): there is no moment where they exist untagged.
    { name: 'image created, answer lost', step: 0, when: 'after', at: op('ec2:CreateImage') },
    { name: 'DR copy made, answer lost', step: 1, when: 'after', at: op('ec2:CopyImage') },
    {
      name: 'mid-prune: image deregistered, snapshots not deleted',
      step: 2,
      when: 'after',
      at: op('ec2:DeregisterImage'),
    },
  ],
};

/** JSON with sorted object keys: equal states give equal strings. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : x,
  );
}

/** The first few paths where two states differ, for a report line. */
export function stateDiff(a: unknown, b: unknown, path = '$', out: string[] = []): string {
  if (out.length >= 5) return out.join('; ');
  if (stableJson(a) === stableJson(b)) return out.join('; ');
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      const x = (a as Record<string, unknown>)[k];
      const y = (b as Record<string, unknown>)[k];
      if (x === undefined) out.push(`${path}.${k}: extra`);
      else if (y === undefined) out.push(`${path}.${k}: missing`);
      else stateDiff(x, y, `${path}.${k}`, out);
      if (out.length >= 5) break;
    }
  } else if (Array.isArray(a) && Array.isArray(b)) {
    const as = a.map(stableJson);
    const bs = b.map(stableJson);
    for (const x of as.filter((x) => !bs.includes(x))) out.push(`${path}: missing ${x.slice(0, 240)}`);
    for (const y of bs.filter((y) => !as.includes(y))) out.push(`${path}: extra ${y.slice(0, 240)}`);
    if (as.length !== bs.length) out.push(`${path}: ${as.length} expected, ${bs.length} found`);
  } else {
    out.push(
      `${path}: expected ${JSON.stringify(a)?.slice(0, 160)}, got ${JSON.stringify(b)?.slice(0, 160)}`,
    );
  }
  return out.join('; ');
}
