// Test support for the validation machine: a policy whose isolated account is
// unique to the test file (so "nothing left behind" can be asserted on the
// whole account), a vault, an alert topic, a tagged database with a
// kura-managed snapshot, and local databases (MariaDB, PostgreSQL) standing in
// for the restored endpoints the probe runner reaches.
import { randomInt } from 'node:crypto';
import { CreateDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { rdsSnapshot } from './functions.ts';
import { ensureVault } from '../../local/vault.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { ManagedSecretAccess } from '../../shared/aws/db-access.ts';
import { callControl } from '../../local/iam/principals.ts';
import type { StandInDatabase } from '../../local/stand-in-databases.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { CheckPorts } from '../../shared/validation/checks/types.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from './emulator.ts';
import type { MariaDb } from './mariadb.ts';
import type { Postgres } from './postgres.ts';

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

/** A tagged database (MySQL unless `engine` says) and one kura-managed snapshot of it, taken at `time` (the clock is left there). */
export async function databaseWithSnapshot(
  deps: Deps,
  name: string,
  time: Date,
  engine: { Engine: string; EngineVersion: string } = { Engine: 'mysql', EngineVersion: '8.0.39' },
): Promise<void> {
  const sel = deps.policy.selector;
  await deps.clients.get(RDSClient).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: name,
      ...engine,
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
 * Local databases standing in for the restored endpoints of this worker's
 * validations: the probe runner, played in-process behind the IAM front layer
 * (local/probe-runner.ts), reaches them in place of the emulator's endpoints,
 * with the user and password RDS put in the restored copy's managed secret.
 * Returns the check ports to use: the real ones, polling the emulator quickly.
 */
export async function standInDatabases(dbs: { mariadb?: MariaDb; postgres?: Postgres }): Promise<CheckPorts> {
  const databases: StandInDatabase[] = [];
  if (dbs.mariadb)
    databases.push({
      family: 'mysql',
      host: dbs.mariadb.host,
      port: dbs.mariadb.port,
      adminUser: dbs.mariadb.user,
      adminPassword: dbs.mariadb.password,
    });
  if (dbs.postgres)
    databases.push({
      family: 'postgres',
      host: dbs.postgres.host,
      port: dbs.postgres.port,
      adminUser: dbs.postgres.user,
      adminPassword: dbs.postgres.password,
    });
  await callControl('stand-in-databases', { databases });
  return { dbAccess: new ManagedSecretAccess({ pollSeconds: 0.1 }) };
}
