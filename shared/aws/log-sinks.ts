// Adapters (logs, restore): where restored logs are written, a local folder or
// an S3 prefix (in this account or, with its Clients, the isolated one). Both
// hash what they write and keep nothing whose SHA-256 is not the expected one.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertInsideTarget } from '../domain/restore-paths.ts';
import type { Clients } from './clients.ts';
import { S3LogStore } from './log-store.ts';

/** Where restored files go. `path` is `<class>/<host>/<yyyy-mm-dd>/<file>`. */
export interface LogSink {
  describe(): string;
  /** Writes one file; rejects (leaving nothing under `path`) when the bytes do not have `expected.sha256`. */
  write(
    path: string,
    body: AsyncIterable<Uint8Array>,
    expected: { size: number; sha256?: string },
  ): Promise<{ sha256: string; size: number }>;
}

function hashing(
  body: AsyncIterable<Uint8Array>,
  state: { hash: ReturnType<typeof createHash>; size: number },
) {
  return (async function* () {
    for await (const chunk of body) {
      state.hash.update(chunk);
      state.size += chunk.length;
      yield chunk;
    }
  })();
}

function mismatch(
  path: string,
  expected: { size: number; sha256?: string },
  got: { size: number; sha256: string },
): string | undefined {
  if (got.size !== expected.size) return `${path}: wrote ${got.size} bytes, expected ${expected.size}`;
  if (expected.sha256 && got.sha256 !== expected.sha256)
    return `${path}: SHA-256 ${got.sha256}, expected ${expected.sha256}`;
  return undefined;
}

export class LocalDirSink implements LogSink {
  private readonly root: string;
  constructor(dir: string) {
    this.root = resolve(dir);
  }

  describe(): string {
    return this.root;
  }

  async write(path: string, body: AsyncIterable<Uint8Array>, expected: { size: number; sha256?: string }) {
    assertInsideTarget(path, 'log member');
    const target = join(this.root, path);
    if (!target.startsWith(this.root + sep)) assertInsideTarget(`../${path}`, 'log member');
    const partial = `${target}.kura-partial`;
    await mkdir(dirname(target), { recursive: true });
    const state = { hash: createHash('sha256'), size: 0 };
    try {
      await pipeline(Readable.from(hashing(body, state)), createWriteStream(partial));
      const got = { size: state.size, sha256: state.hash.digest('hex') };
      const problem = mismatch(path, expected, got);
      if (problem) throw new Error(problem);
      await rename(partial, target);
      return got;
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }
}

export class S3Sink implements LogSink {
  private readonly store: S3LogStore;
  constructor(
    clients: Clients,
    readonly bucket: string,
    readonly prefix: string,
  ) {
    this.store = new S3LogStore(clients);
  }

  describe(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  async write(path: string, body: AsyncIterable<Uint8Array>, expected: { size: number; sha256?: string }) {
    assertInsideTarget(path, 'log member');
    const key = `${this.prefix}${path}`;
    const state = { hash: createHash('sha256'), size: 0 };
    await this.store.upload(this.bucket, key, Readable.from(hashing(body, state)), {
      tags: {},
      contentType: 'application/octet-stream',
    });
    const got = { size: state.size, sha256: state.hash.digest('hex') };
    const problem = mismatch(path, expected, got);
    if (problem) {
      await this.store.remove(this.bucket, key);
      throw new Error(problem);
    }
    return got;
  }
}
