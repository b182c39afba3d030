// AWS adapter: the progress of orchestrated restores, kept in the vault under
// restores/<request-id>/ so that a re-run of the same request resumes, the CLI
// can show status from anywhere, and the report stays next to the evidence.
// Every item has its own object: parallel branches never write the same key.
// The objects themselves go through the one vault-objects store. The records
// an auditor or a later task trusts (the plan, the approval, the report) are
// sealed when written and checked when read (seals.ts); progress (state.json,
// items/) is not: it changes with every step.
import type { Policy } from '../policy/schema.ts';
import type { Clients } from './clients.ts';
import { getSealedText, putSealed } from './seals.ts';
import { type VaultLock, vaultLock } from './vault-lock.ts';
import { S3VaultObjects, type VaultObjects } from './vault-objects.ts';

export const RESTORES_PREFIX = 'restores/';

/** The records of a restore that are sealed (domain/seals.ts: each a chain, a re-run writes them again). */
export const SEALED_RESTORE_RECORDS = ['plan.json', 'approval.json', 'report.json', 'report.md'] as const;
const sealed = (name: string) => (SEALED_RESTORE_RECORDS as readonly string[]).includes(name);

export interface RestoreStorePort {
  get<T>(requestId: string, name: string): Promise<T | undefined>;
  put(requestId: string, name: string, body: unknown, contentType?: string): Promise<string>;
  /** Request ids with a state.json, newest listing order as S3 gives it. */
  list(): Promise<string[]>;
  /** Names under restores/<id>/items/. */
  items(requestId: string): Promise<string[]>;
  location(requestId: string, name: string): string;
}

/** The restores/<id>/<name> layout over the vault's objects. */
export class S3RestoreStore implements RestoreStorePort {
  private readonly objects: VaultObjects;

  /** `lock`: the vault's retention (vault-lock.ts), stated on every write (and on every seal). */
  constructor(clients: Clients, bucket: string, lock?: VaultLock) {
    this.objects = new S3VaultObjects(clients, bucket, lock);
  }

  private key(requestId: string, name: string): string {
    return `${RESTORES_PREFIX}${requestId}/${name}`;
  }

  location(requestId: string, name: string): string {
    return this.objects.location(this.key(requestId, name));
  }

  async get<T>(requestId: string, name: string): Promise<T | undefined> {
    const key = this.key(requestId, name);
    const text = sealed(name) ? await getSealedText(this.objects, key) : await this.objects.getText(key);
    if (text === undefined) return undefined;
    return name.endsWith('.json') ? (text ? (JSON.parse(text) as T) : undefined) : (text as T);
  }

  async put(
    requestId: string,
    name: string,
    body: unknown,
    contentType = 'application/json',
  ): Promise<string> {
    const key = this.key(requestId, name);
    if (sealed(name)) await putSealed(this.objects, key, body, { contentType });
    else await this.objects.put(key, body, { contentType });
    return this.location(requestId, name);
  }

  list(): Promise<string[]> {
    return this.objects.listDirs(RESTORES_PREFIX);
  }

  async items(requestId: string): Promise<string[]> {
    const prefix = this.key(requestId, 'items/');
    return (await this.objects.list(prefix))
      .map((k) => k.slice(prefix.length))
      .filter((k) => k.endsWith('.json'));
  }
}

/** The policy's restore records, each write stating its class's Object Lock retention (restores/: the reports' years). */
export function vaultRestoreStore(clients: Clients, policy: Policy): S3RestoreStore {
  return new S3RestoreStore(clients, policy.vault.bucket, vaultLock(policy));
}
