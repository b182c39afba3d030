// The safety paths that once swallowed every error now tolerate only the one
// refusal they expect: an AccessDenied (a role without a grant, a policy that
// refuses) is reported by name, never read as "none found" or "nothing to do".
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { pitrWindow } from '../../shared/restore/database-pitr.ts';
import { ensureIsolatedNetwork } from '../../shared/restore/isolated-network.ts';
import { findOrphans } from '../../shared/usecases/orphans.ts';
import { refuse } from '../support/calls.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { createDatabase } from '../support/rds.ts';

/** Clients on the emulator that get AccessDenied (HTTP 403) for one SDK command, as a role without it would. */
const refusing = (command: string) => emulatorClients('ap-northeast-1', undefined, refuse(command));

describe('refusals are named, never read as "none"', () => {
  it('fails the isolated network when the egress of its new group cannot be revoked', async () => {
    const isolated = await refusing('RevokeSecurityGroupEgress').assumeRole(
      `arn:aws:iam::2${String(Date.now()).slice(-11)}:role/kura-restore`,
    );

    const attempt = ensureIsolatedNetwork(isolated);

    await expect(attempt).rejects.toThrow(
      /AccessDenied|not authorized to perform: RevokeSecurityGroupEgress/,
    );
  });

  it('reports an orphan search the vault refuses as a failed search, naming the refusal', async () => {
    const policy = testPolicy((p) => {
      p.vault.bucket = `kura-vault-refused-${uniqueSuffix()}`;
      p.database = undefined;
      p.images = undefined;
    });

    const found = await findOrphans({ policy, clients: refusing('ListObjectsV2') });

    expect(found.filter((o) => o.kind === 'search failed').map((o) => [o.class, o.reason])).toEqual([
      ['content', expect.stringContaining('AccessDenied')],
      ['logs', expect.stringContaining('AccessDenied')],
    ]);
  });

  it('refuses to guess a point-in-time window when the automated backups cannot be read', async () => {
    const clients = emulatorClients();
    const db = `pitr-refused-${uniqueSuffix()}`;
    await createDatabase(clients, db, {});

    const attempt = pitrWindow(refusing('DescribeDBInstanceAutomatedBackups'), db);

    await expect(attempt).rejects.toThrow(/not authorized to perform: DescribeDBInstanceAutomatedBackups/);
    // Readable, the same database has its window.
    expect((await pitrWindow(clients, db))?.latest).toBeDefined();
  });

  it('can tell a refused revoke from a group that is already closed', async () => {
    // The network built with every grant has no egress rule at all.
    const clients = emulatorClients();
    const isolated = await clients.assumeRole(
      `arn:aws:iam::3${String(Date.now()).slice(-11)}:role/kura-restore`,
    );
    const net = await ensureIsolatedNetwork(isolated);
    const g = await isolated
      .get(EC2Client)
      .send(new DescribeSecurityGroupsCommand({ GroupIds: [net.securityGroupId] }));
    expect(g.SecurityGroups?.[0]?.IpPermissionsEgress).toEqual([]);
  });
});
