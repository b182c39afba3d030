// AWS adapter (probe runner): the restored copy's master credentials from the
// RDS-managed secret in the isolated account (never logged, never returned).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clients } from './clients.ts';

export async function readDbSecret(
  clients: Clients,
  secretArn: string,
): Promise<{ username: string; password: string }> {
  const region = secretArn.split(':')[3] || clients.region;
  const out = await clients
    .get(SecretsManagerClient, region)
    .send(new GetSecretValueCommand({ SecretId: secretArn }));
  const value = JSON.parse(out.SecretString ?? '{}') as { username?: unknown; password?: unknown };
  if (typeof value.username !== 'string' || typeof value.password !== 'string')
    throw new Error(`${secretArn} holds no username and password`);
  return { username: value.username, password: value.password };
}
