// The image, content and logs restore steps over the ports they are given:
// the clients here cannot send anything, so a step that built its own
// adapter would fail; what the steps answer comes from the stand-ins.
import { describe, expect, it } from 'vitest';
import type { Clients } from '../../shared/aws/clients.ts';
import type { ContentPort } from '../../shared/aws/content.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';
import type { MachineImage } from '../../shared/aws/ec2-images.ts';
import type { LogStorePort } from '../../shared/aws/log-store.ts';
import type { ImageRestorePorts } from '../../shared/aws/restore-ports.ts';
import { vaultLayout } from '../../shared/domain/content.ts';
import { manifestKey } from '../../shared/domain/logs/keys.ts';
import { managedTags, TAG } from '../../shared/domain/tags.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { contentStep } from '../../shared/restore/content.ts';
import { imageStep } from '../../shared/restore/image.ts';
import { logsStep } from '../../shared/restore/logs.ts';
import type { IsolatedTarget } from '../../shared/restore/types.ts';

const policy = loadPolicy();
const noSdk = (): never => {
  throw new Error('a restore step built its own AWS client');
};
const clients = { region: policy.region, timer: { now: () => 0 }, get: noSdk } as unknown as Clients;
const deps = { policy, clients };
const target: IsolatedTarget = { clients, accountId: '210987654321', region: policy.region };
const time = new Date('2026-11-01T19:00:00Z');

const image: MachineImage = {
  id: 'ami-1',
  name: 'kura-i-1-202611011900',
  region: policy.region,
  state: 'available',
  tags: managedTags({ backupClass: 'image', source: 'i-1', time, createdBy: 'test' }),
  snapshotIds: [],
  blockDevices: [],
  snapshots: [],
};

function imagePorts(terminated: string[], images: MachineImage[] = [image]): ImageRestorePorts {
  return {
    network: noSdk,
    key: noSdk,
    keys: noSdk,
    records: noSdk,
    images: () => ({
      listInstances: async () => [],
      listManagedImages: async (region) => (region === policy.region ? images : []),
      getImage: noSdk,
      shareImage: noSdk,
    }),
    instances: () => ({
      isolationFindings: noSdk,
      ingressRuleCount: noSdk,
      findByTags: noSdk,
      launch: noSdk,
      describe: async (id) =>
        id === 'i-kura'
          ? {
              id,
              state: 'running',
              tags: managedTags({ backupClass: 'validation', source: 'i-1', time, createdBy: 'test' }),
            }
          : { id, state: 'running', tags: {} },
      terminate: async (id) => void terminated.push(id),
    }),
  };
}

describe('image restore step over its ports', () => {
  it('lists the managed images the image port answers', async () => {
    const points = await imageStep(imagePorts([])).list(deps, { source: 'i-1' });
    expect(points.map((p) => [p.source, p.id, p.time])).toEqual([['i-1', 'ami-1', time.toISOString()]]);
  });

  it("lists a gone server's images only when they came from where the policy backs up", async () => {
    // Another deployment's copy from a source account, in the same account and region.
    const copy: MachineImage = {
      ...image,
      id: 'ami-2',
      name: 'kura-i-2-202611011900-333333333333-ap-northeast-1',
      tags: {
        ...managedTags({ backupClass: 'image', source: 'i-2', time, createdBy: 'test' }),
        [TAG.sourceAccount]: '333333333333',
      },
    };
    const single = await imageStep(imagePorts([], [image, copy])).list(deps);
    const withSources = await imageStep(imagePorts([], [image, copy])).list({
      ...deps,
      policy: {
        ...policy,
        sources: [
          {
            accountId: '333333333333',
            roleArn: 'arn:aws:iam::333333333333:role/kura-source',
            externalId: 'x',
          },
        ],
      },
    });
    expect(single.map((p) => p.id)).toEqual(['ami-1']);
    expect(withSources.map((p) => p.id).sort()).toEqual(['ami-1', 'ami-2']);
  });

  it('terminates kura-managed instances through the instances port and refuses any other', async () => {
    const terminated: string[] = [];
    const resource = (id: string) => ({
      type: 'AWS::EC2::Instance',
      id,
      account: '210987654321',
      region: policy.region,
      cleanup: '',
    });
    const step = imageStep(imagePorts(terminated));
    await step.cleanup(target, [resource('i-kura')]);
    await expect(step.cleanup(target, [resource('i-other')])).rejects.toThrow(/not kura-managed/);
    expect(terminated).toEqual(['i-kura']);
  });
});

describe('content restore step over its ports', () => {
  it('lists the generations the content port answers, with their summary time', async () => {
    const source = policy.content[0]?.name as string;
    const summary = vaultLayout.summaryKey(policy, source, '2026-11-01');
    const port = {
      listKeys: async (_bucket: string, prefix: string) =>
        prefix === vaultLayout.generationsPrefix(policy, source)
          ? [vaultLayout.indexKey(policy, source, '2026-11-01')]
          : [],
      get: async ({ key }: { key: string }) =>
        key === summary ? Buffer.from(JSON.stringify({ time: time.toISOString(), objects: 3 })) : undefined,
    } as unknown as ContentPort;
    const points = await contentStep({ content: () => port, vault: () => vaultContent(port, policy) }).list(
      deps,
      { source },
    );
    expect(points.map((p) => [p.source, p.id, p.time, p.details?.objects])).toEqual([
      [source, '2026-11-01', time.toISOString(), 3],
    ]);
  });
});

describe('logs restore step over its ports', () => {
  it('lists the committed bundles the log store answers', async () => {
    const key = manifestKey('access', 'web-1', '2026-09', 1);
    const store = {
      list: async () => [{ key, size: 10, etag: '"e"', lastModified: time }],
    } as unknown as LogStorePort;
    const points = await logsStep({ logs: () => store, sink: noSdk, seals: noSdk }).list(deps, {
      source: 'access/web-1',
    });
    expect(points.map((p) => [p.source, p.id, p.details?.month])).toEqual([
      ['access/web-1', key.replace(/\.manifest\.json$/, '.tar.gz'), '2026-09'],
    ]);
  });
});
