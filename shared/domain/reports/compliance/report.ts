// Domain (reports, compliance): the vault's own protections, and the report
// assembled from every control.
import type { CoverageClass } from '../coverage.ts';
import {
  type ComplianceInput,
  type ComplianceReport,
  type Control,
  type ControlKind,
  type ControlStatus,
  pick,
} from './model.ts';
import { pitrControl, retentionControl, scheduleControl } from './source-controls.ts';
import { drCopyControl, isolatedUseControl, lockLifecycleControl } from './copy-controls.ts';
import { dataControl, monthlyControl, rehearsalControl, restoreTimeControl } from './period-controls.ts';

function vaultControls(i: ComplianceInput): Control[] {
  const groups: [ControlKind, RegExp, string, string][] = [
    [
      'vault-lock',
      /^(vault bucket|versioning|Object Lock)/,
      'vault.objectLock',
      'versioned, Object Lock on, with the policy default',
    ],
    ['vault-encryption', /encryption/, 'vault.kmsKeyAlias', 'encrypted with the policy key'],
    [
      'vault-access',
      /^(public access block|bucket policy|readable)/,
      'vault.administrators',
      'never public, TLS only, administrators and kura only',
    ],
  ];
  return groups.map(([kind, re, policyKey, requirement]) => {
    const base = { area: 'vault', source: i.policy.vault.bucket, kind, policyKey, requirement };
    const checks = (i.lifecycle?.drift ?? []).filter((d) => re.test(d.check));
    if (!i.lifecycle?.drift || !checks.length)
      return pick('NOT EVALUATED', {
        ...base,
        finding: 'the vault was not read',
        why: 'the vault configuration could not be read',
        evidence: [],
      });
    const bad = checks.filter((d) => !d.ok);
    const evidence = checks.map((d) => `${d.check}: ${d.actual}${d.ok ? '' : ` (expected ${d.expected})`}`);
    if (bad.length)
      return pick('FAIL', {
        ...base,
        finding: bad.map((d) => `${d.check}: expected ${d.expected}, found ${d.actual}`).join('; '),
        evidence,
      });
    return pick('PASS', { ...base, finding: 'as the policy says', evidence });
  });
}

// ------------------------------------------------------------------ report

const CLASS_ORDER: CoverageClass[] = ['database', 'content', 'logs', 'image'];

export function complianceReport(i: ComplianceInput): ComplianceReport {
  const controls: Control[] = [];
  for (const cls of CLASS_ORDER) {
    for (const s of i.inventory.series.filter((x) => x.class === cls)) {
      controls.push(scheduleControl(i, s), retentionControl(i, s));
      if (cls === 'database') controls.push(pitrControl(i, s));
      if (cls === 'database' || cls === 'image')
        controls.push(drCopyControl(i, cls, s.source), isolatedUseControl(i, cls, s.source));
    }
    if (cls === 'content')
      for (const c of i.policy.content) controls.push(lockLifecycleControl(i, 'content', c.name));
    if (cls === 'logs')
      for (const c of Object.keys(i.policy.logs?.classes ?? {}))
        controls.push(lockLifecycleControl(i, 'logs', c));
  }
  controls.push(
    monthlyControl(i),
    dataControl(i),
    restoreTimeControl(i),
    rehearsalControl(i),
    ...vaultControls(i),
  );
  const count = (s: ControlStatus) => controls.filter((c) => c.status === s).length;
  const tail = i.inventory.days.slice(-62);
  return {
    kind: 'kura.compliance-report',
    generatedAt: i.generatedAt.toISOString(),
    from: i.from.toISOString(),
    to: i.to.toISOString(),
    timezone: i.policy.timezone,
    bucket: i.policy.vault.bucket,
    ...(i.emulatorEndpoint ? { emulator: i.emulatorEndpoint } : {}),
    summary: {
      pass: count('PASS'),
      fail: count('FAIL'),
      notEvaluated: count('NOT EVALUATED'),
      total: controls.length,
    },
    controls,
    coverage: {
      days: tail,
      rows: i.inventory.series.map((s) => ({
        label: `${s.class} · ${s.source}`,
        cells: s.cells.filter((c) => tail.includes(c.day)),
      })),
    },
    months: i.history.months,
    notes: [
      ...(i.emulatorEndpoint
        ? [
            `read from an emulator (${i.emulatorEndpoint}), not AWS: restore times, windows and states are the emulator's; the controls show how kura judges, not how production stands`,
          ]
        : []),
      ...(i.notes ?? []),
    ],
  };
}

/** FAIL lines, one per failed control: what `--check` fails on. */
export function failedControls(r: ComplianceReport): string[] {
  return r.controls.filter((c) => c.status === 'FAIL').map((c) => `${c.id}: ${c.finding}`);
}
