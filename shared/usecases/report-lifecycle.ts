// Use case: the lifecycle report for auditors. Reads the vault's real
// configuration and volume and the estate's snapshot sizes, then lets the
// domain compare them with the policy (rules, protections) and project the
// storage cost per class at stated prices.
import type { Deps } from '../aws/deps.ts';
import type { LifecycleReportPorts } from '../aws/report-ports.ts';
import type { SnapshotVolume } from '../aws/vault-config.ts';
import { type ApiRule, type LifecycleReport, lifecycleReport } from '../domain/lifecycle/report.ts';
import { BUNDLE_ROOT, LOOSE_ROOT, parseBundleKey, parseLooseKey } from '../domain/logs/keys.ts';
import { type ClassVolume, type PriceTable, projectCosts } from '../domain/reports/cost.ts';
import { vaultDrift } from '../domain/reports/vault-drift.ts';
import type { Policy } from '../policy/schema.ts';
import { drTarget } from '../domain/selection.ts';

const GIB = 1024 ** 3;

/** The class a vault key belongs to, for the volume per class. */
export function vaultClassOf(policy: Policy, key: string): string {
  const loose = parseLooseKey(key);
  if (loose) return `logs: ${loose.logClass}`;
  const bundle = parseBundleKey(key);
  if (bundle) return `logs: ${bundle.logClass}`;
  const m =
    /^content\/([^/]+)\//.exec(key) ??
    new RegExp(`^${escapeRe(policy.vault.manifestsPrefix)}content/([^/]+)/`).exec(key);
  if (m) return `content: ${m[1]}`;
  return 'vault: reports, manifests, other';
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Sums every object version of the vault by class and storage class. */
export async function measureVault(
  policy: Policy,
  ports: Pick<LifecycleReportPorts, 'vaultVersions'>,
): Promise<ClassVolume[]> {
  const min = policy.logs?.transitions.minObjectSizeBytes ?? 0;
  const byClass = new Map<string, ClassVolume & { days: Set<string>; months: Set<string> }>();
  for await (const v of ports.vaultVersions()) {
    const name = vaultClassOf(policy, v.key);
    const kind = name.startsWith('logs: ') ? 'logs' : name.startsWith('content: ') ? 'content' : 'other';
    let c = byClass.get(name);
    if (!c) {
      c = {
        name,
        kind,
        bytes: 0,
        byStorageClass: {},
        bytesAboveMinSize: 0,
        days: new Set(),
        months: new Set(),
      };
      byClass.set(name, c);
    }
    c.bytes += v.size;
    c.byStorageClass[v.storageClass] = (c.byStorageClass[v.storageClass] ?? 0) + v.size;
    if (v.key.startsWith(LOOSE_ROOT)) {
      const day = parseLooseKey(v.key)?.day;
      if (day) c.days.add(day);
      // Loose files are bundled later; a bundle, not the small file, meets the size filter.
      c.bytesAboveMinSize = (c.bytesAboveMinSize ?? 0) + v.size;
    } else if (v.key.startsWith(BUNDLE_ROOT)) {
      const ref = parseBundleKey(v.key);
      if (ref) c.months.add(ref.month);
      if (v.size > min) c.bytesAboveMinSize = (c.bytesAboveMinSize ?? 0) + v.size;
    }
  }
  return [...byClass.values()]
    .map(({ days, months, ...c }) => ({
      ...c,
      ...(c.kind === 'logs' ? { daysHeld: days.size + months.size * 30.44 } : {}),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function snapshotClass(kind: 'database' | 'image', snaps: SnapshotVolume[]): ClassVolume | undefined {
  if (!snaps.length) return undefined;
  const bytes = snaps.reduce((a, s) => a + s.gib * GIB, 0);
  const key = kind === 'database' ? 'RDS_SNAPSHOT' : 'EBS_SNAPSHOT';
  return {
    name: kind === 'database' ? 'database snapshots' : 'image snapshots (AMIs)',
    kind,
    bytes,
    byStorageClass: { [key]: bytes },
    count: kind === 'database' ? snaps.length : new Set(snaps.map((s) => `${s.region}/${s.id}`)).size,
    // Per region, a source's copies are counted once per region by the projection.
    sources: new Set(snaps.map((s) => s.source)).size,
  };
}

export interface LifecycleAuditOptions {
  now: Date;
  offline?: boolean;
  prices: PriceTable;
  /** What the caller knows about where the vault was read (for example an emulator), shown with the report. */
  notes?: string[];
}

export async function lifecycleAudit(
  deps: Deps,
  ports: LifecycleReportPorts,
  opts: LifecycleAuditOptions,
): Promise<LifecycleReport> {
  const { policy, clients } = deps;
  const notes: string[] = [...(opts.notes ?? [])];
  if (opts.offline) {
    const rep = lifecycleReport(policy, opts.now, undefined, ['--offline: the vault was not read']);
    return { ...rep, costs: projectCosts(policy, [], opts.prices) };
  }
  let bucket: { exists: boolean; rules?: ApiRule[] } | undefined;
  try {
    bucket = await ports.bucketLifecycle();
  } catch (err) {
    notes.push(
      `the bucket could not be read (${(err as Error).name}: ${(err as Error).message}); rules not checked`,
    );
  }
  const config = bucket?.exists === false ? { exists: false, unreadable: [] } : await ports.vaultConfig();
  const volumes: ClassVolume[] = config.exists ? await measureVault(policy, ports) : [];
  const dbRegions = [clients.region, ...(policy.database?.copy ? [policy.database.copy.region] : [])];
  const imgRegions = [
    ...new Set([clients.region, ...(policy.images ? [drTarget(policy)?.region ?? clients.region] : [])]),
  ];
  try {
    const db = policy.database
      ? snapshotClass('database', await ports.databaseSnapshotVolumes(dbRegions))
      : undefined;
    const img = policy.images
      ? snapshotClass('image', await ports.imageSnapshotVolumes(imgRegions))
      : undefined;
    for (const v of [db, img]) if (v) volumes.push(v);
  } catch (err) {
    notes.push(`snapshot sizes could not be read (${(err as Error).name}): their cost is not projected`);
  }
  const rep = lifecycleReport(policy, opts.now, bucket, notes);
  return { ...rep, drift: vaultDrift(policy, config), costs: projectCosts(policy, volumes, opts.prices) };
}
