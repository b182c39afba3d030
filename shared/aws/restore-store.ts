// AWS adapter: the progress of orchestrated restores, kept in the vault under
// restores/<request-id>/ so that a re-run of the same request resumes, the CLI
// can show status from anywhere, and the report stays next to the evidence.
// Every item has its own object: parallel branches never write the same key.
// The objects themselves go through the one vault-objects store.
import type { Clients } from './clients.ts';
import type { VaultLock } from './vault-lock.ts';
import { S3VaultObjects, type VaultObjects } from './vault-objects.ts';

export const RESTORES_PREFIX = 'restores/';

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

  /** `lock`: the vault's retention (vault-lock.ts), stated on every write. */
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
    return name.endsWith('.json') ? this.objects.get<T>(key) : ((await this.objects.getText(key)) as T);
  }

  async put(
    requestId: string,
    name: string,
    body: unknown,
    contentType = 'application/json',
  ): Promise<string> {
    await this.objects.put(this.key(requestId, name), body, { contentType });
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
