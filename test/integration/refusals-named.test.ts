// The safety paths that once swallowed every error now tolerate only the one
// refusal they expect: an AccessDenied (a role without a grant, a policy that
// refuses) is reported by name, never read as "none found" or "nothing to do".
// The refusals come from the IAM front layer, withholding one grant, in the
// service's own AccessDenied shape (test/support/iam.ts withoutGrant).
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { operatorClients } from '../../local/iam/principals.ts';
import { pitrWindow } from '../../shared/aws/rds-pitr.ts';
import { estatePorts } from '../../shared/edge/report-ports.ts';
import { findOrphans } from '../../shared/usecases/orphans.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { withoutGrant } from '../support/iam.ts';
import { createDatabase } from '../support/rds.ts';
import { ensureIsolatedNetwork } from '../../shared/aws/isolated-network.ts';

/** A fresh account, reached as its administrator. */
const freshAccount = (first: string) =>
  operatorClients(`${first}${String(Date.now()).slice(-11)}`, emulatorClients());

describe('refusals are named, never read as "none"', () => {
  it('fails the isolated network when the egress of its new group cannot be revoked', async () => {
    const isolated = await freshAccount('2');

    const { error, refused } = await withoutGrant('ec2:RevokeSecurityGroupEgress', () =>
      ensureIsolatedNetwork(isolated),
    );

    expect(error?.message).toMatch(/AccessDenied|UnauthorizedOperation|not authorized/);
    expect(refused.map((r) => r.operation)).toEqual(['ec2:RevokeSecurityGroupEgress']);
  });

  it('reports an orphan search the vault refuses as a failed search, naming the refusal', async () => {
    const policy = testPolicy((p) => {
      p.vault.bucket = `kura-vault-refused-${uniqueSuffix()}`;
      p.database = undefined;
      p.images = undefined;
    });

    const { result: found } = await withoutGrant('s3:ListBucket', () =>
      findOrphans(
        { policy, clients: emulatorClients() },
        estatePorts({ policy, clients: emulatorClients() }),
      ),
    );

    expect(found?.filter((o) => o.kind === 'search failed').map((o) => [o.class, o.reason])).toEqual([
      ['content', expect.stringContaining('AccessDenied')],
      ['logs', expect.stringContaining('AccessDenied')],
    ]);
  });

  it('refuses to guess a point-in-time window when the automated backups cannot be read', async () => {
    const clients = emulatorClients();
    const db = `pitr-refused-${uniqueSuffix()}`;
    await createDatabase(clients, db, {});

    const { error } = await withoutGrant('rds:DescribeDBInstanceAutomatedBackups', () =>
      pitrWindow(clients, db),
    );

    expect(error?.message).toMatch(/not authorized.*rds:DescribeDBInstanceAutomatedBackups/);
    // Readable, the same database has its window.
    expect((await pitrWindow(clients, db))?.latest).toBeDefined();
  });

  it('can tell a refused revoke from a group that is already closed', async () => {
    // The network built with every grant has no egress rule at all.
    const isolated = await freshAccount('3');
    const net = await ensureIsolatedNetwork(isolated);
    const g = await isolated
      .get(EC2Client)
      .send(new DescribeSecurityGroupsCommand({ GroupIds: [net.securityGroupId] }));
    expect(g.SecurityGroups?.[0]?.IpPermissionsEgress).toEqual([]);
  });
});
