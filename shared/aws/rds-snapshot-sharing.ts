// AWS adapter (database class): who may restore a snapshot (its `restore`
// attribute): shared with the isolated account for a restore, unshared after.
import {
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import type { Clients } from './clients.ts';
import type { Snapshot } from './rds.ts';

export async function shareSnapshot(clients: Clients, snapshot: Snapshot, accountId: string): Promise<void> {
  const attr = { AttributeName: 'restore', ValuesToAdd: [accountId] };
  if (snapshot.kind === 'instance') {
    await clients
      .get(RDSClient)
      .send(new ModifyDBSnapshotAttributeCommand({ DBSnapshotIdentifier: snapshot.id, ...attr }));
  } else {
    await clients
      .get(RDSClient)
      .send(
        new ModifyDBClusterSnapshotAttributeCommand({ DBClusterSnapshotIdentifier: snapshot.id, ...attr }),
      );
  }
}

/** Accounts in the snapshot's `restore` attribute (those it is shared with; "all" when public). */
export async function sharedWith(clients: Clients, snapshot: Snapshot, region?: string): Promise<string[]> {
  if (snapshot.kind === 'instance') {
    const r = await clients
      .get(RDSClient, region)
      .send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: snapshot.id }));
    const attrs = r.DBSnapshotAttributesResult?.DBSnapshotAttributes ?? [];
    return attrs.find((a) => a.AttributeName === 'restore')?.AttributeValues ?? [];
  }
  const r = await clients
    .get(RDSClient, region)
    .send(new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: snapshot.id }));
  const attrs = r.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes ?? [];
  return attrs.find((a) => a.AttributeName === 'restore')?.AttributeValues ?? [];
}

/** Removes an account from the snapshot's `restore` attribute. */
export async function unshareSnapshot(
  clients: Clients,
  snapshot: Snapshot,
  accountId: string,
  region?: string,
): Promise<void> {
  const attr = { AttributeName: 'restore', ValuesToRemove: [accountId] };
  if (snapshot.kind === 'instance') {
    await clients
      .get(RDSClient, region)
      .send(new ModifyDBSnapshotAttributeCommand({ DBSnapshotIdentifier: snapshot.id, ...attr }));
  } else {
    await clients
      .get(RDSClient, region)
      .send(
        new ModifyDBClusterSnapshotAttributeCommand({ DBClusterSnapshotIdentifier: snapshot.id, ...attr }),
      );
  }
}
