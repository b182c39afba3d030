// AWS adapter: the lifecycle rules a bucket really carries, for the lifecycle
// report (what the policy generates vs what S3 applies).
import { GetBucketLifecycleConfigurationCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { ApiRule } from '../domain/lifecycle/report.ts';
import type { Clients } from './clients.ts';
import { isAwsError } from './errors.ts';

export async function readBucketLifecycle(
  clients: Clients,
  bucket: string,
): Promise<{ exists: boolean; rules?: ApiRule[] }> {
  const s3 = clients.get(S3Client);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if (isAwsError(err, 'notFound')) return { exists: false };
    throw err;
  }
  try {
    const out = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    return { exists: true, rules: (out.Rules ?? []) as ApiRule[] };
  } catch (err) {
    if (isAwsError(err, 'notConfigured')) return { exists: true, rules: [] };
    throw err;
  }
}
