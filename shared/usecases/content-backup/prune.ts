// Content backup, pruning: keeps the newest `generations` of a source.
import { GENERATION_NAME, vaultLayout } from '../../domain/content.ts';
import { planPruning } from '../../domain/retention.ts';
import { sealKey } from '../../domain/seals.ts';
import type { SourceJob } from './job.ts';

/**
 * Keeps the newest `generations`; an older one loses its shard manifests and
 * then its index to delete markers (Object Lock keeps the bytes for its term).
 */
export async function pruneGenerations(job: SourceJob, generations: string[]): Promise<string[]> {
  const { policy, port, cfg, vault } = job;
  const plan = planPruning(
    [...new Set(generations)].map((g) => ({
      id: g,
      time: new Date(`${g}T00:00:00Z`),
      managed: GENERATION_NAME.test(g),
      complete: true,
    })),
    { minGenerations: cfg.generations, maxGenerations: cfg.generations },
    // Generations are dates (UTC midnight above), so "now" is this run's own
    // generation date on the same scale: compared with the run's instant,
    // its own generation would look newer than the run (planPruning never
    // prunes what is newer than "now", a guard against replays and skew).
    new Date(`${job.generation}T00:00:00Z`),
  );
  for (const p of plan.prune) {
    // Unchecked: pruning trusts nothing in it, it only marks the generation's own shard keys removed.
    const index = await job.generations.readIndex(cfg.name, p.id, { unchecked: true });
    const prefix = vaultLayout.generationsPrefix(policy, cfg.name);
    const gone = index
      ? vaultLayout.indexKey(policy, cfg.name, p.id)
      : vaultLayout.manifestKey(policy, cfg.name, p.id);
    if (index) {
      // Shards first: a prune interrupted here is finished by the next run, which still sees the index.
      await port.deleteKeys(
        vault,
        index.shards.map((s) => s.key).filter((k) => k.startsWith(prefix)),
      );
    }
    // The index and its seal in one request (the lifecycle removes both once their locks end).
    await port.deleteKeys(vault, [gone, sealKey(gone, 1)]);
  }
  return plan.prune.map((p) => p.id);
}
