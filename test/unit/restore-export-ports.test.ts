// `kura restore export` of content over its ports: the objects are listed and
// read where the restore put them (the isolated account's clients) and written
// with kura's own, never over an object already there. The clients here can
// send nothing: every AWS call goes through the ports given.
import { describe, expect, it } from 'vitest';
import type { Clients } from '../../shared/aws/clients.ts';
import type { ExportObjectsPort, ListedKey } from '../../shared/aws/export-objects.ts';
import type { RestoreStorePort } from '../../shared/aws/restore-store.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { connectIsolated } from '../../shared/restore/isolated-network.ts';
import type { ItemRecord } from '../../shared/restore/plan.ts';
import type { IsolatedTarget } from '../../shared/restore/types.ts';
import { planExport, runExport } from '../../shared/usecases/restore-export.ts';

const policy = loadPolicy();
const iso = policy.isolatedAccount?.accountId as string;
const noSdk = (): never => {
  throw new Error('the export built its own AWS client');
};
const isolated = { region: policy.region, accountId: async () => iso, get: noSdk } as unknown as Clients;
const mine = {
  region: policy.region,
  timer: { now: () => Date.parse('2026-11-02T00:00:00Z') },
  assumeRole: async () => isolated,
  get: noSdk,
} as unknown as Clients;
const deps = { policy, clients: mine };
const source = policy.content[0]?.name as string;
const from = `s3://kura-restore-${iso}/kura-restore/content/${source}/2026-11-01/oncall-1/`;

const record: ItemRecord = {
  key: `content-${source}`,
  class: 'content',
  source,
  status: 'done',
  attempts: 1,
  startedAt: '',
  updatedAt: '',
  recoveryPoint: { class: 'content', source, id: '2026-11-01', time: '', region: policy.region },
  restored: {
    class: 'content',
    source,
    recoveryPoint: { class: 'content', source, id: '2026-11-01', time: '', region: policy.region },
    resources: [{ type: 'kura::S3::Prefix', id: from, account: iso, region: policy.region, cleanup: '' }],
    startedAt: '',
    finishedAt: '',
    durationSeconds: 0,
  },
};
const store: RestoreStorePort = {
  get: async <T>(_id: string, name: string) =>
    (name === 'state.json'
      ? { plan: { reason: 'INC-1 images lost' } }
      : name === `items/${record.key}`
        ? record
        : undefined) as T,
  put: noSdk,
  list: async () => [],
  items: async () => [record.key],
  location: () => '',
};

/** Two buckets: the isolated account's restore bucket, and the bucket the images go back to. */
function objects() {
  const buckets = new Map<string, Map<string, string>>([
    [
      `kura-restore-${iso}`,
      new Map([
        [`kura-restore/content/${source}/2026-11-01/oncall-1/a.jpg`, 'aaa'],
        [`kura-restore/content/${source}/2026-11-01/oncall-1/b.jpg`, 'bbbb'],
      ]),
    ],
    ['shop-images', new Map([['back/b.jpg', 'kept']])],
  ]);
  const seen: string[] = [];
  const port = (who: string): ExportObjectsPort => ({
    list: async (bucket, prefix) => {
      seen.push(`${who} list ${bucket}`);
      return [...(buckets.get(bucket) ?? [])]
        .filter(([k]) => k.startsWith(prefix))
        .map(([key, v]): ListedKey => ({ key, size: v.length }));
    },
    headBucket: async (bucket) => {
      seen.push(`${who} head ${bucket}`);
      if (!buckets.has(bucket))
        throw Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    },
    read: async (bucket, key) => {
      seen.push(`${who} read ${key}`);
      const v = buckets.get(bucket)?.get(key) ?? '';
      return {
        body: (async function* () {
          yield Buffer.from(v);
        })(),
        size: v.length,
        contentType: 'image/jpeg',
      };
    },
    write: async (bucket, key, obj, opts) => {
      seen.push(`${who} write ${key}`);
      const b = buckets.get(bucket) as Map<string, string>;
      if (opts?.ifNoneMatch && b.has(key))
        throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
          name: 'PreconditionFailed',
          $metadata: { httpStatusCode: 412 },
        });
      const chunks: Buffer[] = [];
      for await (const c of obj.body) chunks.push(Buffer.from(c));
      b.set(key, Buffer.concat(chunks).toString());
    },
    upload: noSdk,
    putText: noSdk,
    secretPassword: noSdk,
  });
  return {
    buckets,
    seen,
    ports: {
      openDatabase: noSdk,
      own: port('kura'),
      isolated: (target: IsolatedTarget) => port(target.clients === isolated ? 'isolated' : 'unexpected'),
      store,
      connect: connectIsolated,
    },
  };
}

describe('kura restore export of content, over its ports', () => {
  it('reads with the isolated account, writes with kura’s own, and keeps what is already there', async () => {
    const o = objects();
    const request = { restore: 'oncall-1', content: [{ source, to: 's3://shop-images/back/' }] };
    const planned = await planExport(deps, request, o.ports);
    expect(planned.plan.content[0]).toMatchObject({ existing: ['back/b.jpg'], bytes: 7 });
    const result = await runExport(deps, planned, new Date('2026-11-02T00:00:00Z'), o.ports);
    expect(result.content).toEqual([
      { source, to: 's3://shop-images/back/', copied: 1, bytes: 3, skippedExisting: ['back/b.jpg'] },
    ]);
    expect([...(o.buckets.get('shop-images') ?? [])]).toEqual([
      ['back/b.jpg', 'kept'],
      ['back/a.jpg', 'aaa'],
    ]);
    expect(o.seen.filter((s) => / (read|write) /.test(s))).toEqual([
      `isolated read kura-restore/content/${source}/2026-11-01/oncall-1/a.jpg`,
      'kura write back/a.jpg',
    ]);
  });

  it('refuses a target bucket kura cannot reach, before anything is written', async () => {
    const o = objects();
    const request = { restore: 'oncall-1', content: [{ source, to: 's3://no-such-bucket/back/' }] };
    await expect(planExport(deps, request, o.ports)).rejects.toThrow(
      /--to s3:\/\/no-such-bucket\/back\/: the bucket cannot be reached/,
    );
    expect(o.seen.some((s) => / write /.test(s))).toBe(false);
  });
});
