// Domain (logs): the tar.gz codec of monthly bundles, streams in and streams
// out, with the SHA-256 of every member and of the whole bundle computed as
// the bytes pass. No AWS and no I/O of its own: callers hand in the members'
// bodies and take the bundle's bytes. Memory stays bounded by the streams'
// buffers (tar-stream and zlib hold one chunk at a time), not by the input.
import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import type { ReadMember } from './manifest.ts';

export interface MemberSource {
  /** Tar member name. */
  name: string;
  size: number;
  mtime: Date;
  /** Opens the member's body; called once, in member order, when the packer needs it. */
  open(): Promise<AsyncIterable<Uint8Array>>;
  /** Called once the member was fully read, with its SHA-256 (hex). May throw to abort the bundle. */
  check?(read: ReadMember): void;
}

export interface BundleDigest {
  size: number;
  sha256: string;
}

export interface PackedBundle {
  /** The tar.gz bytes; read it to drive the packing. */
  stream: Readable;
  /** Resolves when the last byte was read: members as read and the bundle's size and SHA-256. */
  done: Promise<{ members: ReadMember[]; bundle: BundleDigest }>;
}

/**
 * Counts and hashes the bytes that pass through. (Not a `size` property:
 * lib-storage's Upload reads `Body.size` as the total length.)
 */
export class DigestStream extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  digest(): BundleDigest {
    return { size: this.bytes, sha256: this.hash.digest('hex') };
  }
}

async function writeEntry(
  entry: NodeJS.WritableStream & { write(c: Uint8Array): boolean },
  m: MemberSource,
): Promise<ReadMember> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await m.open()) {
    hash.update(chunk);
    size += chunk.length;
    if (size > m.size)
      throw new Error(
        `member ${m.name}: more than the ${m.size} bytes listed; the object changed while bundling`,
      );
    if (!entry.write(chunk)) await new Promise<void>((resolve) => entry.once('drain', () => resolve()));
  }
  if (size !== m.size)
    throw new Error(
      `member ${m.name}: read ${size} bytes, listed ${m.size}; the object changed while bundling`,
    );
  entry.end();
  const read = { name: m.name, size, sha256: hash.digest('hex') };
  m.check?.(read);
  return read;
}

/**
 * Packs members into one tar.gz stream. Members are opened one at a time, in
 * the given order; the tar headers are deterministic (mode 0644, owner 0, the
 * member's mtime), so the same members give the same bytes.
 */
export function packBundle(members: MemberSource[], gzipLevel = 6): PackedBundle {
  return packSegment(members, true, gzipLevel);
}

/**
 * Where a bundle may stop and continue (another invocation): the member
 * indexes that end a segment, one segment every `segmentBytes` of input or
 * so, the last one at `sizes.length`. Each segment is its own gzip member
 * (concatenated members are one gzip stream), so the bundle's bytes depend on
 * its members only, never on where an invocation stopped.
 */
export function segmentEnds(sizes: number[], segmentBytes: number): number[] {
  const ends: number[] = [];
  let acc = 0;
  for (const [i, size] of sizes.entries()) {
    acc += size;
    if (acc >= segmentBytes || i === sizes.length - 1) {
      ends.push(i + 1);
      acc = 0;
    }
  }
  return ends.length ? ends : [0];
}

/** tar's end-of-archive: two zero blocks, written once after the last member. */
const TAR_END = 1024;

/**
 * One segment of a bundle: these members' tar entries as one gzip member.
 * Only the `last` segment ends the tar archive; the others stop after their
 * last entry, where the next segment's entries follow.
 */
export function packSegment(members: MemberSource[], last: boolean, gzipLevel = 6): PackedBundle {
  const pack = tar.pack();
  pack.on('error', () => {}); // surfaces through the iterator below
  const gzip = createGzip({ level: gzipLevel });
  const digest = new DigestStream();
  const read: ReadMember[] = [];

  const feed = (async () => {
    for (const m of members) {
      let settle: (err?: Error | null) => void = () => {};
      const entryDone = new Promise<void>((resolve, reject) => {
        settle = (err) => (err ? reject(err) : resolve());
      });
      const entry = pack.entry(
        { name: m.name, size: m.size, mtime: m.mtime, mode: 0o644, uid: 0, gid: 0, type: 'file' },
        (err) => settle(err),
      );
      // Failures surface through writeEntry / the pack's iterator; these only stop "unhandled" noise.
      entryDone.catch(() => {});
      entry.on('error', () => {});
      read.push(
        await writeEntry(entry as unknown as NodeJS.WritableStream & { write(c: Uint8Array): boolean }, m),
      );
      await entryDone;
    }
    pack.finalize();
  })();
  feed.catch((err) => pack.destroy(err as Error));

  // tar-stream's streams are streamx streams: bridge them to Node streams by iteration.
  // A segment that is not the last holds back the end-of-archive blocks and drops them.
  const source = Readable.from(
    (async function* () {
      let held = Buffer.alloc(0);
      for await (const chunk of pack as AsyncIterable<Uint8Array>) {
        if (last) {
          yield chunk;
          continue;
        }
        held = Buffer.concat([held, chunk]);
        if (held.length > TAR_END) {
          yield held.subarray(0, held.length - TAR_END);
          held = held.subarray(held.length - TAR_END);
        }
      }
    })(),
    { objectMode: false },
  );
  source.pipe(gzip).pipe(digest);
  source.on('error', (err) => digest.destroy(err));
  gzip.on('error', (err) => digest.destroy(err));

  const done = new Promise<{ members: ReadMember[]; bundle: BundleDigest }>((resolve, reject) => {
    digest.once('end', () => feed.then(() => resolve({ members: read, bundle: digest.digest() }), reject));
    digest.once('error', reject);
    feed.catch(reject);
  });
  done.catch(() => {});
  return { stream: digest, done };
}

/** Receives a member's body while a bundle is read; it should consume `body` (what it leaves is drained). */
export type MemberConsumer = (
  member: { name: string; size: number },
  body: AsyncIterable<Uint8Array>,
) => Promise<void>;

/**
 * Reads a tar.gz bundle: hashes the compressed bytes and every member, hands
 * each member to `consume` (when given), and returns what it read.
 */
export async function readBundle(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Readable,
  consume?: MemberConsumer,
): Promise<{ members: ReadMember[]; bundle: BundleDigest }> {
  const input = body instanceof Readable ? body : Readable.from(body);
  const digest = new DigestStream();
  const gunzip = createGunzip();
  const extract = tar.extract();
  input.on('error', (err) => extract.destroy(err));
  digest.on('error', (err) => extract.destroy(err));
  gunzip.on('error', (err) => extract.destroy(err));
  input
    .pipe(digest)
    .pipe(gunzip)
    .pipe(extract as unknown as NodeJS.WritableStream);

  const members: ReadMember[] = [];
  for await (const entry of extract) {
    const { name, size = 0, type } = entry.header;
    const hash = createHash('sha256');
    let n = 0;
    const hashed = (async function* () {
      for await (const chunk of entry as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        n += chunk.length;
        yield chunk;
      }
    })();
    if (type === 'file' && consume) await consume({ name, size }, hashed);
    for await (const _ of hashed) {
      // drain whatever the consumer left
    }
    if (type === 'file') members.push({ name, size: n, sha256: hash.digest('hex') });
  }
  if (!digest.writableFinished) await new Promise<void>((resolve) => digest.once('finish', () => resolve()));
  return { members, bundle: digest.digest() };
}
