// Test support for the validation machine: a policy whose isolated account is
// unique to the test file (so "nothing left behind" can be asserted on the
// whole account), a vault, an alert topic, a tagged database with a
// kura-managed snapshot, and check ports that point the SQL probe at a local
// MariaDB standing in for the restored endpoint.
import { randomInt } from 'node:crypto';
import { CreateDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { rdsSnapshot } from './functions.ts';
import { ensureVault } from '../../local/vault.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { type DbAccessPort, MasterPasswordAccess } from '../../shared/aws/db-access.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { CheckPorts } from '../../shared/validation/checks/types.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from './emulator.ts';
import { addReader, type MariaDb } from './mariadb.ts';

export function validationPolicy(overrides: (p: Policy) => void = () => {}): Policy {
  const suffix = uniqueSuffix();
  const account = `2${String(randomInt(10 ** 10, 10 ** 11 - 1))}`;
  return testPolicy((p) => {
    p.isolatedAccount = {
      accountId: account,
      roleArn: `arn:aws:iam::${account}:role/kura-restore`,
      externalId: 'kura-test',
      region: p.region,
    };
    p.vault.reportsPrefix = `reports-${suffix}/`;
    p.notifications = { topicName: `kura-alerts-${suffix}` };
    if (p.database) {
      p.database.copy = undefined;
      p.database.shareWithIsolatedAccount = false;
    }
    p.images = undefined;
    p.logs = undefined;
    p.content = [];
    overrides(p);
  });
}

export async function validationDeps(policy: Policy): Promise<Deps & { topicArn: string }> {
  const clients: Clients = emulatorClients(policy.region);
  await ensureVault(clients, policy);
  const topic = await clients
    .get(SNSClient)
    .send(new CreateTopicCommand({ Name: policy.notifications?.topicName ?? 'kura-alerts' }));
  return { policy, clients, topicArn: topic.TopicArn ?? '' };
}

/** A tagged MySQL database and one kura-managed snapshot of it, taken at `time` (the clock is left there). */
export async function databaseWithSnapshot(deps: Deps, name: string, time: Date): Promise<void> {
  const sel = deps.policy.selector;
  await deps.clients.get(RDSClient).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: name,
      Engine: 'mysql',
      EngineVersion: '8.0.39',
      DBInstanceClass: 'db.t4g.micro',
      AllocatedStorage: 20,
      MasterUsername: 'admin',
      MasterUserPassword: 'source-password-1',
      BackupRetentionPeriod: 7,
      Tags: [{ Key: sel.tagKey, Value: sel.tagValue }],
    }),
  );
  clock.set(time);
  const r = await rdsSnapshot(syntheticScheduledEvent(time), deps);
  const failed = r.targets.filter((t) => t.status === 'failed');
  if (failed.length) throw new Error(`fixture snapshot failed: ${JSON.stringify(failed)}`);
}

/**
 * The real access port (a fresh master password set on the restored copy in
 * the isolated account), redirected to a local MariaDB that gets the same user
 * and password: the emulator's endpoints do not run a database.
 */
export function mariadbPorts(db: MariaDb): CheckPorts {
  const real = new MasterPasswordAccess({ pollSeconds: 0.1 });
  const dbAccess: DbAccessPort = {
    async connection(target, instance) {
      const conn = await real.connection(target, instance);
      await addReader(db, conn.user, conn.password);
      return { ...conn, host: db.host, port: db.port };
    },
  };
  return { dbAccess };
}
