// Use case (logs): writing one bundle part across as many invocations as it
// takes. The members go in segments (each its own gzip member, see
// segmentEnds), the bytes into a multipart upload driven part by part. An
// invocation that reaches its budget stops after a segment and saves the
// pending state beside the bundle (log-bundles-work/…): the upload id, the
// parts done with their SHA-256, the members done with theirs, and the bytes
// past the last part. The next invocation continues from there, so the
// bundle's bytes are the same however many invocations wrote it. The state is
// also saved every `checkpointParts` parts: a crash continues from the last
// save (parts after it are sent again under the same numbers), never from zero.
import { createHash } from 'node:crypto';
import type { LogStorePort, StoredObject } from '../aws/log-store.ts';
import { type MemberSource, packSegment, segmentEnds } from '../domain/logs/bundle-codec.ts';
import { bundleWorkPrefix, type LooseRef } from '../domain/logs/keys.ts';
import type { ReadMember } from '../domain/logs/manifest.ts';
import type { TagMap } from '../domain/tags.ts';

export interface BundleSliceOptions {
  /** Stop starting new segments after this many ms of the invocation (at least one segment is done). */
  budgetMs: number;
  /** Milliseconds since the epoch; the budget's clock. */
  clock: () => number;
  /** When the invocation started (clock ms). */
  started: number;
  /** Multipart part size (S3: at least 5 MiB except the last). */
  partSize: number;
  /** Input bytes per segment: the granularity of a stop. */
  segmentBytes: number;
  /** Save the pending state at least every this many parts (what a crash can cost). */
  checkpointParts: number;
}

export const BUNDLE_SLICE_DEFAULTS = {
  // Lambda stops at 15 minutes; a segment of 256 MiB packs in well under two.
  budgetMs: 11 * 60_000,
  partSize: 8 * 1024 * 1024,
  segmentBytes: 256 * 1024 * 1024,
  checkpointParts: 16,
};

export type PendingFile = LooseRef & { obj: StoredObject };

export interface PendingPart {
  partNumber: number;
  etag: string;
  size: number;
  sha256: string;
}

/** `log-bundles-work/<class>/<host>/<month>/part-NNN/state.json`. */
export interface PendingBundle {
  format: 'kura-log-bundle-pending/1';
  key: string;
  part: number;
  uploadId: string;
  /** The members, fixed when the bundle began (continuations pack exactly these, in this order). */
  files: { key: string; etag: string; member: string; size: number; mtime: string }[];
  segmentBytes: number;
  partSize: number;
  membersDone: number;
  members: ReadMember[];
  /** Version read of each member's source (for the manifest). */
  versions: Record<string, string>;
  parts: PendingPart[];
  /** Bytes packed after the last part, saved as an object until the next part is full. */
  tail?: { key: string; size: number; sha256: string };
  invocations: number;
}

export type SliceResult =
  | { done: false; state: PendingBundle }
  | { done: true; state: PendingBundle; versionId?: string; size: number };

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function pendingStateKey(logClass: string, host: string, month: string, part: number): string {
  return `${bundleWorkPrefix(logClass, host, month, part)}state.json`;
}

export async function readPending(
  store: LogStorePort,
  bucket: string,
  key: string,
): Promise<PendingBundle | undefined> {
  const found = await store.head(bucket, key);
  if (!found) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of (await store.read(bucket, key)).body) chunks.push(Buffer.from(c));
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as PendingBundle;
}

/** True when the pending bundle's members are still exactly these loose files (same keys and ETags). */
export function sameFiles(state: PendingBundle, files: PendingFile[]): boolean {
  const now = new Map(files.map((f) => [f.key, f.obj.etag]));
  return state.files.length === now.size && state.files.every((f) => now.get(f.key) === f.etag);
}

/** A new pending bundle: the upload begun, the state saved before any part is sent. */
export async function beginPending(
  store: LogStorePort,
  bucket: string,
  ref: { logClass: string; host: string; month: string; part: number; key: string },
  files: PendingFile[],
  opts: Pick<BundleSliceOptions, 'segmentBytes' | 'partSize'>,
  upload: { tags: TagMap; contentType: string },
): Promise<PendingBundle> {
  const uploadId = await store.beginUpload(bucket, ref.key, upload);
  const state: PendingBundle = {
    format: 'kura-log-bundle-pending/1',
    key: ref.key,
    part: ref.part,
    uploadId,
    files: files.map((f) => ({
      key: f.key,
      etag: f.obj.etag,
      member: f.member,
      size: f.obj.size,
      mtime: f.obj.lastModified.toISOString(),
    })),
    segmentBytes: opts.segmentBytes,
    partSize: opts.partSize,
    membersDone: 0,
    members: [],
    versions: {},
    parts: [],
    invocations: 0,
  };
  await savePending(store, bucket, ref, state);
  return state;
}

async function savePending(
  store: LogStorePort,
  bucket: string,
  ref: { logClass: string; host: string; month: string; part: number },
  state: PendingBundle,
): Promise<void> {
  await store.putText(
    bucket,
    pendingStateKey(ref.logClass, ref.host, ref.month, ref.part),
    JSON.stringify(state),
    {
      tags: {},
      contentType: 'application/json',
    },
  );
}

/** Removes the pending state and its tails once the bundle's manifest is written. */
export async function removePending(
  store: LogStorePort,
  bucket: string,
  ref: { logClass: string; host: string; month: string; part: number },
): Promise<void> {
  const prefix = bundleWorkPrefix(ref.logClass, ref.host, ref.month, ref.part);
  const objects = await store.list(bucket, prefix);
  // The state last: a crash here leaves a state whose bundle is committed, which the next run ignores.
  const ordered = objects.sort(
    (a, b) => Number(a.key.endsWith('state.json')) - Number(b.key.endsWith('state.json')),
  );
  for (const o of ordered) await store.remove(bucket, o.key);
}

/**
 * Packs and uploads the pending bundle's next segments until it is complete
 * (then the upload is completed) or the budget is spent (then the state is
 * saved for the next invocation).
 */
export async function continuePending(
  store: LogStorePort,
  bucket: string,
  ref: { logClass: string; host: string; month: string; part: number },
  state: PendingBundle,
  opts: BundleSliceOptions,
): Promise<SliceResult> {
  state.invocations++;
  const { partSize } = state;
  let buffer: Buffer[] = [];
  let buffered = 0;
  if (state.tail) {
    const chunks: Buffer[] = [];
    for await (const c of (await store.read(bucket, state.tail.key)).body) chunks.push(Buffer.from(c));
    const tail = Buffer.concat(chunks);
    if (tail.length !== state.tail.size || sha256(tail) !== state.tail.sha256)
      throw new Error(`${state.tail.key}: not the ${state.tail.size} bytes the pending state recorded`);
    buffer = [tail];
    buffered = tail.length;
  }
  let sinceSave = 0;
  const sendPart = async (body: Buffer) => {
    const partNumber = state.parts.length + 1;
    const { etag } = await store.uploadPart(bucket, state.key, state.uploadId, partNumber, body);
    state.parts.push({ partNumber, etag, size: body.length, sha256: sha256(body) });
    sinceSave++;
  };
  const save = async () => {
    const rest = Buffer.concat(buffer);
    if (rest.length) {
      // A new key per save: the state saved before still points at its own tail until replaced.
      const key = `${bundleWorkPrefix(ref.logClass, ref.host, ref.month, ref.part)}tail-${String(state.parts.length).padStart(5, '0')}-${state.membersDone}.bin`;
      await store.putBytes(bucket, key, rest);
      state.tail = { key, size: rest.length, sha256: sha256(rest) };
    } else delete state.tail;
    await savePending(store, bucket, ref, state);
    sinceSave = 0;
  };

  const ends = segmentEnds(
    state.files.map((f) => f.size),
    state.segmentBytes,
  );
  if (state.membersDone !== 0 && !ends.includes(state.membersDone))
    throw new Error(`${state.key}: the pending state stopped inside a segment (member ${state.membersDone})`);
  for (let first = true; ; first = false) {
    const start = state.membersDone;
    const end = ends.find((e) => e > start);
    if (end === undefined) break;
    if (!first && opts.clock() - opts.started >= opts.budgetMs) {
      await save();
      return { done: false, state };
    }
    const last = end === ends.at(-1);
    const members: MemberSource[] = state.files.slice(start, end).map((f) => {
      let stored: string | undefined;
      return {
        name: f.member,
        size: f.size,
        mtime: new Date(f.mtime),
        open: async () => {
          const body = await store.read(bucket, f.key, { etag: f.etag });
          if (body.versionId) state.versions[f.key] = body.versionId;
          stored = body.sha256;
          return body.body;
        },
        // The bytes read must be the bytes S3 checksummed when the file was archived.
        check: (read) => {
          if (stored && stored !== read.sha256)
            throw new Error(`${f.key}: read SHA-256 ${read.sha256}, S3 holds ${stored}`);
        },
      };
    });
    const packed = packSegment(members, last);
    for await (const chunk of packed.stream as AsyncIterable<Buffer>) {
      buffer.push(chunk);
      buffered += chunk.length;
      while (buffered >= partSize) {
        const all = Buffer.concat(buffer);
        await sendPart(all.subarray(0, partSize));
        buffer = [all.subarray(partSize)];
        buffered = all.length - partSize;
      }
    }
    const digest = await packed.done;
    state.members.push(...digest.members);
    state.membersDone = end;
    if (!last && sinceSave >= opts.checkpointParts) await save();
  }
  const rest = Buffer.concat(buffer);
  if (rest.length || state.parts.length === 0) await sendPart(rest);
  const out = await store.completeUpload(bucket, state.key, state.uploadId, state.parts);
  return {
    done: true,
    state,
    ...(out.versionId ? { versionId: out.versionId } : {}),
    size: state.parts.reduce((n, p) => n + p.size, 0),
  };
}

/**
 * Hashes a bundle's bytes as read back part by part, to compare with the
 * SHA-256 of every part sent: the whole bundle is then exactly what was packed.
 */
export class PartHasher {
  private hash = createHash('sha256');
  private inPart = 0;
  readonly parts: string[] = [];
  constructor(private readonly partSize: number) {}
  update(chunk: Uint8Array): void {
    let c = Buffer.from(chunk);
    while (c.length) {
      const take = Math.min(c.length, this.partSize - this.inPart);
      this.hash.update(c.subarray(0, take));
      this.inPart += take;
      c = c.subarray(take);
      if (this.inPart === this.partSize) this.next();
    }
  }
  private next(): void {
    this.parts.push(this.hash.digest('hex'));
    this.hash = createHash('sha256');
    this.inPart = 0;
  }
  finish(): string[] {
    if (this.inPart > 0) this.next();
    return this.parts;
  }
}
