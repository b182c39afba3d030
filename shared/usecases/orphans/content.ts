// Orphan finder (content class): generations that were started and never
// finished (a plan, or a summary, without the generation's index).
// The index is the generation: without it the copies already in the vault
// belong to no recovery point. A rerun for the same day continues it. Only
// generations newer than the newest complete one count: older work files
// belong to pruned generations (their indexes carry a delete marker) or to
// a day that a later complete generation superseded.

import type { Deps } from '../../aws/deps.ts';
import { tolerate } from '../../runtime/aws-errors.ts';
import type { EstatePorts } from '../../aws/report-ports.ts';
import { vaultLayout } from '../../domain/content.ts';
import type { Orphan } from '../orphans.ts';

export async function contentOrphans({ policy }: Deps, { objects: store }: EstatePorts): Promise<Orphan[]> {
  const bucket = policy.vault.bucket;
  const out: Orphan[] = [];
  for (const c of policy.content) {
    const generations = vaultLayout.generationsPrefix(policy, c.name);
    const done = new Set<string>();
    const summaries = new Map<string, Date>();
    for (const o of await tolerate(['notFound'], () => store.list(bucket, generations), [])) {
      const rest = o.key.slice(generations.length);
      // A generation is complete with its index (or, written before sharding, its single manifest).
      const m = /^(\d{4}-\d{2}-\d{2})\.(jsonl\.gz|index\.json|summary\.json)$/.exec(rest);
      if (!m) continue;
      if (m[2] !== 'summary.json') done.add(m[1] as string);
      else summaries.set(m[1] as string, o.lastModified);
    }
    const work = vaultLayout.workPrefix(policy, c.name);
    const started = new Map<string, Date>();
    for (const o of await tolerate(['notFound'], () => store.list(bucket, work), [])) {
      // The plan is written before the first copy of a generation.
      const m = /^(\d{4}-\d{2}-\d{2})\/plan\.json$/.exec(o.key.slice(work.length));
      if (m) started.set(m[1] as string, o.lastModified);
    }
    const newest = [...done].sort().at(-1) ?? '';
    for (const [g, at] of started) {
      if (done.has(g) || g <= newest) continue;
      out.push({
        class: 'content',
        kind: 'checkpoint',
        id: `s3://${bucket}/${work}${g}/plan.json`,
        region: policy.region,
        reason: `generation ${g} of ${c.name} was started but has no index (a run in progress, or one that stopped): a content-backup run for ${g} continues it; until then its copies belong to no generation`,
        time: at.toISOString(),
      });
    }
    for (const [g, at] of summaries) {
      if (done.has(g) || g <= newest) continue;
      out.push({
        class: 'content',
        kind: 'manifest',
        id: `s3://${bucket}/${generations}${g}.summary.json`,
        region: policy.region,
        reason: `half-written generation ${g} of ${c.name}: its summary exists but not its index; a content-backup run for ${g} writes the index`,
        time: at.toISOString(),
      });
    }
  }
  return out;
}
