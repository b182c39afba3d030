// AWS adapter (validation): marks a recovery point that passed its rehearsal
// kura:validated, so that pruning keeps the newest validated one.
import { CreateTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AddTagsToResourceCommand, RDSClient } from '@aws-sdk/client-rds';
import { TAG } from '../domain/tags.ts';
import type { Clients } from './clients.ts';

/** The recovery point as the tagger needs it (a restore step's RecoveryPointRef). */
export interface TaggablePoint {
  class: string;
  id: string;
  region: string;
  details?: Record<string, unknown>;
}

/**
 * Tags the point kura:validated=<at>; false for classes that have nothing to tag
 * (content generations and log bundles are vault objects under Object Lock: their
 * pruning keeps generations by count, and the report is their evidence).
 */
export async function tagValidated(clients: Clients, rp: TaggablePoint, at: string): Promise<boolean> {
  const tag = { Key: TAG.validated, Value: at };
  if (rp.class === 'database' && typeof rp.details?.arn === 'string') {
    await clients
      .get(RDSClient, rp.region)
      .send(new AddTagsToResourceCommand({ ResourceName: rp.details.arn, Tags: [tag] }));
    return true;
  }
  if (rp.class === 'image') {
    await clients.get(EC2Client, rp.region).send(new CreateTagsCommand({ Resources: [rp.id], Tags: [tag] }));
    return true;
  }
  return false;
}
