// Validation check (logs): the bundle copied into the isolated bucket is read
// back and compared with its manifest (bundle size and SHA-256, every member's
// size and SHA-256), independently of the restore's own verification.
import { readBundle } from '../../domain/logs/bundle-codec.ts';
import { compareWithManifest, parseManifest } from '../../domain/logs/manifest.ts';
import type { CheckResult } from '../../domain/validation-report.ts';
import type { RestoredItem } from '../../restore/types.ts';
import { parseS3Id } from './read.ts';
import type { CheckContext, CheckOutcome, LogsCheckAdapters } from './types.ts';

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

export async function checkLogs(
  ctx: CheckContext<LogsCheckAdapters>,
  item: RestoredItem,
): Promise<CheckOutcome> {
  const objects = item.resources.filter((r) => r.type === 'AWS::S3::Object').map((r) => r.id);
  const bundleId = objects.find((id) => id.endsWith('.tar.gz'));
  const manifestId = objects.find((id) => id.endsWith('.manifest.json'));
  if (!bundleId || !manifestId) {
    return {
      checks: [
        { name: 'bundle', status: 'fail', detail: 'the restore reported no bundle and manifest copy' },
      ],
    };
  }
  const read = ctx.ports.readObject;
  const m = parseS3Id(manifestId);
  const manifest = parseManifest(await text(read(ctx.target, m.bucket, m.key)), manifestId);
  const b = parseS3Id(bundleId);
  const back = await readBundle(read(ctx.target, b.bucket, b.key));
  const problems = compareWithManifest(manifest.members, back.members, {
    expected: manifest.bundle,
    read: back.bundle,
  });
  const checks: CheckResult[] = [
    {
      name: 'bundle vs manifest',
      status: problems.length === 0 ? 'pass' : 'fail',
      detail:
        problems.length === 0
          ? `${manifest.members.length} member(s) and the bundle match ${manifestId}`
          : problems.slice(0, 10).join('; '),
      value: manifest.members.length,
    },
  ];
  return { checks };
}
