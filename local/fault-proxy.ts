// Local runtime: a loopback HTTP proxy in front of the emulator that injects
// the faults AWS really produces (throttling, 5xx, slow answers, dropped
// connections before and after the request was applied) at a chosen rate,
// reproducibly from a seed, and can "crash" a run at a chosen request.
// Used by the fault tests (test/faults/) and the fault bench (bench/faults/).
//
// Reproducibility: the decision for a request depends only on the seed, the
// request's operation (e.g. `s3:PutObject`, `rds:CreateDBSnapshot`) and how
// many requests of that operation came before it; concurrent requests of
// different operations may interleave in any order and still get the same
// decisions. Each fault is answered in the protocol of the service it hits
// (S3 REST XML, the query protocols of RDS/STS/EC2, the JSON protocols), so
// that the SDK classifies it exactly as it would classify AWS's own.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind = 'throttle' | 'error5xx' | 'slow' | 'dropBefore' | 'dropAfter';
export const FAULT_KINDS: FaultKind[] = ['throttle', 'error5xx', 'slow', 'dropBefore', 'dropAfter'];

export type Protocol = 's3' | 'query' | 'ec2' | 'json' | 'other';

export interface RequestInfo {
  /** Signing name of the service (s3, rds, ec2, sts, kms, …). */
  service: string;
  protocol: Protocol;
  /** `<service>:<Operation>`, e.g. `s3:CopyObject`, `ec2:CreateImage`. */
  operation: string;
  method: string;
  path: string;
  /** 1-based index of this request among all requests the proxy saw. */
  seq: number;
  /** 1-based index among requests of the same operation. */
  nth: number;
  /** The SDK's retry of a request that got a fault (the same request, byte for byte). */
  retry: boolean;
}

export interface CrashRule {
  /** The request that "kills" the run. */
  match: (r: RequestInfo) => boolean;
  /** `before`: the request is never applied; `after`: the emulator applied it, the answer is lost. */
  when: 'before' | 'after';
}

export interface FaultProxyOptions {
  /** The emulator endpoint, e.g. http://127.0.0.1:5000. */
  target: string;
  seed?: number;
  /** Probability that a request gets a fault (0..1). */
  rate?: number;
  /** The kinds drawn from, uniformly (default: all). */
  kinds?: FaultKind[];
  /** Delay of a `slow` answer, ms (default 400). */
  slowMs?: number;
  /** Requests eligible for faults (default: every AWS request). */
  eligible?: (r: RequestInfo) => boolean;
  crash?: CrashRule;
}

export interface FaultStats {
  requests: number;
  /** Requests answered by the emulator and passed back to the client. */
  passed: number;
  injected: Record<FaultKind, number>;
  /** Requests that repeated an earlier request byte for byte after a fault (the SDK's retries). */
  retriesObserved: number;
  /** Requests refused after the crash point. */
  refusedAfterCrash: number;
  crashed: boolean;
  crashedAt?: RequestInfo;
  byOperation: Record<string, number>;
}

export interface FaultProxy {
  endpoint: string;
  stats: FaultStats;
  /** Every request seen, in arrival order (operation and decision). */
  log: { seq: number; operation: string; decision: FaultKind | 'pass' | 'crash' | 'refused'; ms?: number }[];
  /** Changes the fault rate (0 turns faults off) without restarting. */
  setRate(rate: number): void;
  setCrash(rule: CrashRule | undefined): void;
  /** After a crash: pass requests again (the next run). The crash rule is cleared. */
  revive(): void;
  /** Starts afresh on the same endpoint: new seed, rate, kinds and rules; counters and log emptied. */
  reset(opts: Omit<FaultProxyOptions, 'target'>): void;
  close(): Promise<void>;
}

/** mulberry32: a tiny, good-enough seeded PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, 32 bits. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const S3_QUERY_OPS: [string, string][] = [
  ['uploads', 'CreateMultipartUpload'],
  ['uploadId', 'UploadPart'],
  ['tagging', 'Tagging'],
  ['versioning', 'Versioning'],
  ['versions', 'ListObjectVersions'],
  ['list-type', 'ListObjectsV2'],
  ['lifecycle', 'Lifecycle'],
  ['object-lock', 'ObjectLock'],
  ['restore', 'RestoreObject'],
];

function s3Operation(method: string, url: URL, headers: IncomingMessage['headers']): string {
  const xid = url.searchParams.get('x-id');
  if (xid) return xid;
  const segments = url.pathname.split('/').filter(Boolean);
  for (const [param, op] of S3_QUERY_OPS) {
    if (url.searchParams.has(param)) {
      if (param === 'uploadId')
        return method === 'POST'
          ? 'CompleteMultipartUpload'
          : method === 'DELETE'
            ? 'AbortMultipartUpload'
            : 'UploadPart';
      return `${method === 'GET' ? 'Get' : method === 'PUT' ? 'Put' : method === 'DELETE' ? 'Delete' : 'Post'}${op}`;
    }
  }
  const onObject = segments.length > 1;
  if (method === 'PUT' && onObject && headers['x-amz-copy-source']) return 'CopyObject';
  if (method === 'POST' && url.searchParams.has('delete')) return 'DeleteObjects';
  const verb = { GET: 'Get', PUT: 'Put', HEAD: 'Head', DELETE: 'Delete', POST: 'Post' }[method] ?? method;
  return `${verb}${onObject ? 'Object' : 'Bucket'}`;
}

/** Service and protocol from the SigV4 credential scope and the content type. */
export function classify(
  method: string,
  rawUrl: string,
  headers: IncomingMessage['headers'],
  body: Buffer,
): Omit<RequestInfo, 'seq' | 'nth' | 'retry'> {
  const url = new URL(rawUrl, 'http://proxy.invalid');
  const auth = String(headers.authorization ?? '');
  const service = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth)?.[1] ?? 'unknown';
  const target = headers['x-amz-target'];
  const contentType = String(headers['content-type'] ?? '');
  if (service === 's3')
    return {
      service,
      protocol: 's3',
      operation: `s3:${s3Operation(method, url, headers)}`,
      method,
      path: url.pathname,
    };
  if (typeof target === 'string')
    return {
      service,
      protocol: 'json',
      operation: `${service}:${target.split('.').pop() ?? target}`,
      method,
      path: url.pathname,
    };
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? 'Unknown';
    return {
      service,
      protocol: service === 'ec2' ? 'ec2' : 'query',
      operation: `${service}:${action}`,
      method,
      path: url.pathname,
    };
  }
  return {
    service,
    protocol: 'other',
    operation: `${service}:${method} ${url.pathname}`,
    method,
    path: url.pathname,
  };
}

interface Canned {
  status: number;
  contentType: string;
  body: string;
}

function requestId(seq: number): string {
  return `fault-${seq.toString(16).padStart(8, '0')}`;
}

/** An error answer in the protocol of the service, as AWS words it. */
export function cannedError(
  protocol: Protocol,
  status: number,
  code: string,
  message: string,
  seq: number,
): Canned {
  const id = requestId(seq);
  switch (protocol) {
    case 's3':
      return {
        status,
        contentType: 'application/xml',
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${id}</RequestId></Error>`,
      };
    case 'ec2':
      return {
        status,
        contentType: 'text/xml',
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${id}</RequestID></Response>`,
      };
    case 'query':
      return {
        status,
        contentType: 'text/xml',
        body: `<ErrorResponse><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
      };
    default:
      return {
        status,
        contentType: 'application/x-amz-json-1.1',
        body: JSON.stringify({ __type: code, message }),
      };
  }
}

function throttleAnswer(protocol: Protocol, seq: number): Canned {
  if (protocol === 's3')
    return cannedError(protocol, 503, 'SlowDown', 'Please reduce your request rate.', seq);
  if (protocol === 'ec2')
    return cannedError(protocol, 503, 'RequestLimitExceeded', 'Request limit exceeded.', seq);
  if (protocol === 'json') return cannedError(protocol, 400, 'ThrottlingException', 'Rate exceeded', seq);
  return cannedError(protocol, 400, 'Throttling', 'Rate exceeded', seq);
}

function serverErrorAnswer(protocol: Protocol, seq: number, unavailable: boolean): Canned {
  if (unavailable)
    return cannedError(protocol, 503, 'ServiceUnavailable', 'Service is unavailable, try again.', seq);
  const code = protocol === 's3' || protocol === 'ec2' ? 'InternalError' : 'InternalFailure';
  return cannedError(protocol, 500, code, 'We encountered an internal error. Please try again.', seq);
}

/** After the crash point every request is refused with a non-retryable error: nothing more is applied. */
function refusedAnswer(protocol: Protocol, seq: number): Canned {
  const code =
    protocol === 'json'
      ? 'AccessDeniedException'
      : protocol === 'ec2'
        ? 'UnauthorizedOperation'
        : 'AccessDenied';
  return cannedError(protocol, 403, code, 'kura fault proxy: the run crashed here', seq);
}

/**
 * Sends an already-read request on to `target` (no 100-continue handshake: the
 * body is here), every header kept (kura's simulated time included).
 */
export function forwardRequest(
  target: URL,
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const { expect: _expect, ...rest } = req.headers;
    const up = httpRequest(
      {
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...rest, host: target.host },
      },
      (res) => {
        readBody(res).then(
          (b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }),
          reject,
        );
      },
    );
    up.on('error', reject);
    up.end(body);
  });
}

/** Passes an answer of `target` back to the client, its length recomputed (the body was read whole). */
export function relay(
  res: ServerResponse,
  method: string,
  up: { status: number; headers: IncomingMessage['headers']; body: Buffer },
): void {
  const headers = { ...up.headers };
  delete headers['transfer-encoding'];
  if (method !== 'HEAD') headers['content-length'] = String(up.body.length);
  res.writeHead(up.status, headers);
  res.end(up.body);
}

/** Serves `server` on a free loopback port: its endpoint, and a close that drops kept-alive connections. */
export async function listenOnLoopback(
  server: Server,
): Promise<{ endpoint: string; close: () => Promise<void> }> {
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function emptyStats(): FaultStats {
  return {
    requests: 0,
    passed: 0,
    injected: { throttle: 0, error5xx: 0, slow: 0, dropBefore: 0, dropAfter: 0 },
    retriesObserved: 0,
    refusedAfterCrash: 0,
    crashed: false,
    byOperation: {},
  };
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(opts.target);
  let seed = opts.seed ?? 1;
  let rate = opts.rate ?? 0;
  let kinds = opts.kinds ?? FAULT_KINDS;
  let slowMs = opts.slowMs ?? 400;
  let eligible = opts.eligible;
  let crash = opts.crash;
  const stats = emptyStats();
  const log: FaultProxy['log'] = [];
  const perOp = new Map<string, number>();
  // Fingerprints of requests that got a fault and whose retry has not been seen yet.
  const faulted = new Map<string, number>();

  const decide = (info: RequestInfo): FaultKind | 'pass' => {
    if (rate <= 0 || kinds.length === 0) return 'pass';
    if (info.protocol === 'other' || info.service === 'unknown') return 'pass';
    if (eligible && !eligible(info)) return 'pass';
    const rnd = mulberry32(hash32(`${seed}|${info.operation}|${info.nth}`));
    if (rnd() >= rate) return 'pass';
    return kinds[Math.floor(rnd() * kinds.length)] ?? 'pass';
  };

  const forward = (req: IncomingMessage, body: Buffer) => forwardRequest(target, req, body);

  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const method = req.method ?? 'GET';
      const base = classify(method, req.url ?? '/', req.headers, body);
      const nth = (perOp.get(base.operation) ?? 0) + 1;
      perOp.set(base.operation, nth);
      const fingerprint = `${method} ${req.url} ${hash32(body.toString('latin1'))}`;
      const pending = faulted.get(fingerprint);
      const info: RequestInfo = { ...base, seq: ++stats.requests, nth, retry: Boolean(pending) };
      stats.byOperation[info.operation] = (stats.byOperation[info.operation] ?? 0) + 1;
      if (pending) {
        stats.retriesObserved++;
        if (pending > 1) faulted.set(fingerprint, pending - 1);
        else faulted.delete(fingerprint);
      }
      const send = (c: Canned) => {
        res.writeHead(c.status, {
          'content-type': c.contentType,
          'content-length': Buffer.byteLength(c.body),
          'x-amzn-requestid': requestId(info.seq),
          'x-amz-request-id': requestId(info.seq),
        });
        res.end(c.body);
      };
      const drop = () => {
        req.socket.destroy();
      };

      if (stats.crashed) {
        stats.refusedAfterCrash++;
        log.push({ seq: info.seq, operation: info.operation, decision: 'refused' });
        return send(refusedAnswer(info.protocol, info.seq));
      }
      if (crash && info.protocol !== 'other' && crash.match(info)) {
        stats.crashed = true;
        stats.crashedAt = info;
        log.push({ seq: info.seq, operation: info.operation, decision: 'crash' });
        if (crash.when === 'after') await forward(req, body);
        return drop();
      }

      const decision = decide(info);
      log.push({ seq: info.seq, operation: info.operation, decision });
      if (decision !== 'pass') {
        stats.injected[decision]++;
        if (decision !== 'slow') faulted.set(fingerprint, (faulted.get(fingerprint) ?? 0) + 1);
      }
      switch (decision) {
        case 'throttle':
          return send(throttleAnswer(info.protocol, info.seq));
        case 'error5xx':
          return send(serverErrorAnswer(info.protocol, info.seq, hash32(`${seed}|${info.seq}`) % 2 === 0));
        case 'dropBefore':
          return drop();
        case 'dropAfter': {
          await forward(req, body);
          return drop();
        }
        case 'slow':
          await sleep(slowMs);
          break;
        default:
          break;
      }
      const t0 = Date.now();
      const up = await forward(req, body);
      const entry = log.at(-1);
      if (entry?.seq === info.seq) entry.ms = Date.now() - t0;
      relay(res, method, up);
      stats.passed++;
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`kura fault proxy: ${(err as Error).message}`);
      } else res.destroy();
    }
  });
  const { endpoint, close } = await listenOnLoopback(server);
  return {
    endpoint,
    stats,
    log,
    setRate(r: number) {
      rate = r;
    },
    setCrash(rule) {
      crash = rule;
    },
    revive() {
      crash = undefined;
      stats.crashed = false;
    },
    reset(o) {
      seed = o.seed ?? 1;
      rate = o.rate ?? 0;
      kinds = o.kinds ?? FAULT_KINDS;
      slowMs = o.slowMs ?? 400;
      eligible = o.eligible;
      crash = o.crash;
      Object.assign(stats, emptyStats());
      delete stats.crashedAt;
      log.length = 0;
      perOp.clear();
      faulted.clear();
    },
    close,
  };
}

/** Total faults injected (all kinds). */
export function faultsInjected(s: FaultStats): number {
  return Object.values(s.injected).reduce((a, b) => a + b, 0);
}
