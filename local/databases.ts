// Local runtime: a small RDS instance in the emulator, tagged as the caller
// asks; the test suite (test/support/rds.ts) and the ransomware estate make
// their databases with it.
import { CreateDBInstanceCommand, type CreateDBInstanceCommandInput, RDSClient } from '@aws-sdk/client-rds';
import type { Clients } from '../shared/aws/clients.ts';

export async function createDatabase(
  clients: Clients,
  id: string,
  tags: Record<string, string>,
  extra: Partial<CreateDBInstanceCommandInput> = {},
): Promise<void> {
  await clients.get(RDSClient).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      Engine: 'mysql',
      DBInstanceClass: 'db.t4g.micro',
      AllocatedStorage: 20,
      MasterUsername: 'admin',
      MasterUserPassword: 'password-123',
      BackupRetentionPeriod: 7,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      ...extra,
    }),
  );
}
