// AWS adapter: the first-point ledger in the vault
// (ledger/first-points/<class>/<source>.json). A record is written only when
// none is current (conditional PUT, If-None-Match: *), so a re-run never moves
// it; each version is Object-Locked, and the reader takes the earliest record
// over every version of the key, so a delete marker (or a later record written
// after one) never hides the first point.
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  earliestRecord,
  FIRST_POINTS_PREFIX,
  type FirstPoint,
  type FirstPointRecord,
  firstPointKey,
  type LedgerClass,
  parseFirstPointKey,
  parseFirstPointRecord,
} from '../domain/first-points.ts';
import type { Policy } from '../policy/schema.ts';
import type { Clients } from './clients.ts';
import { isAwsError } from './errors.ts';
import { lockFor, vaultLock } from './vault-lock.ts';

export interface FirstPointLedger {
  /** Writes the record unless one is current; 'kept' when one already was. */
  note(
    point: { class: LedgerClass; source: string; id: string; time: string },
    recordedBy: string,
    now: Date,
  ): Promise<'recorded' | 'kept'>;
  /** Every source's first point, keyed `<class> <source>`. */
  readAll(): Promise<Map<string, FirstPoint>>;
}

export const ledgerKey = (cls: string, source: string) => `${cls} ${source}`;

export class S3FirstPointLedger implements FirstPointLedger {
  constructor(
    private readonly clients: Clients,
    private readonly policy: Policy,
  ) {}

  private get s3(): S3Client {
    return this.clients.get(S3Client);
  }

  async note(
    point: { class: LedgerClass; source: string; id: string; time: string },
    recordedBy: string,
    now: Date,
  ): Promise<'recorded' | 'kept'> {
    const key = firstPointKey(point.class, point.source);
    const record: FirstPointRecord = {
      kind: 'kura.first-point',
      class: point.class,
      source: point.source,
      id: point.id,
      time: point.time,
      recordedAt: now.toISOString(),
      recordedBy,
    };
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.policy.vault.bucket,
          Key: key,
          Body: `${JSON.stringify(record, null, 2)}\n`,
          ContentType: 'application/json',
          IfNoneMatch: '*',
          ...lockFor(
            vaultLock(this.policy, () => now),
            this.policy.vault.bucket,
            key,
          ),
          // The vault has Object Lock: S3 needs a checksum on every write.
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      return 'recorded';
    } catch (err) {
      // Another record is current (this source's first point is known): keep it.
      if (isAwsError(err, 'preconditionFailed')) return 'kept';
      throw err;
    }
  }

  async readAll(): Promise<Map<string, FirstPoint>> {
    const bucket = this.policy.vault.bucket;
    const versions: { key: string; versionId?: string }[] = [];
    const deleted = new Set<string>();
    // The SDK has no paginator for ListObjectVersions: follow the two markers by hand.
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: FIRST_POINTS_PREFIX,
          KeyMarker,
          VersionIdMarker,
        }),
      );
      for (const v of page.Versions ?? []) if (v.Key) versions.push({ key: v.Key, versionId: v.VersionId });
      for (const m of page.DeleteMarkers ?? []) if (m.Key && m.IsLatest) deleted.add(m.Key);
      KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (KeyMarker);
    const byKey = new Map<string, FirstPointRecord[]>();
    for (const v of versions) {
      if (!parseFirstPointKey(v.key)) continue;
      const r = await this.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId }),
      );
      const rec = parseFirstPointRecord((await r.Body?.transformToString('utf8')) ?? '');
      if (rec) byKey.set(v.key, [...(byKey.get(v.key) ?? []), rec]);
    }
    const out = new Map<string, FirstPoint>();
    for (const [key, records] of byKey) {
      const first = earliestRecord(records);
      if (first)
        out.set(ledgerKey(first.class, first.source), {
          ...first,
          key,
          versions: records.length,
          deleted: deleted.has(key),
        });
    }
    return out;
  }
}
