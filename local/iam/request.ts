// Local runtime (IAM front layer): what one HTTP request to the emulator asks
// for, read the way AWS reads it: the service and operation (named as the
// fault proxy names them), the caller's access key and region from the SigV4
// credential scope, and the operation's parameters in the protocol of the
// service (query/EC2 form fields, JSON bodies, S3's path, query and headers).
import type { IncomingMessage } from 'node:http';
import { classify, type Protocol } from '../fault-proxy.ts';

export interface AwsRequest {
  service: string;
  protocol: Protocol;
  /** `<service>:<Operation>`, e.g. `s3:CopyObject`, `rds:CreateDBSnapshot`. */
  operation: string;
  accessKey: string;
  region: string;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Form fields of the query and EC2 protocols (`Tags.Tag.1.Key`, …). */
  form: URLSearchParams;
  /** The parsed body of the JSON protocols. */
  json: Record<string, unknown>;
  /** S3: the bucket and key of the path (path-style addressing). */
  bucket?: string;
  key?: string;
  body: Buffer;
}

const REST_JSON: [RegExp, string, string][] = [
  // Scheduler and Lambda speak REST-JSON: the operation is in the method and path.
  [/^\/schedules\/[^/]+$/, 'GET', 'GetSchedule'],
  [/^\/schedules\/[^/]+$/, 'POST', 'CreateSchedule'],
  [/^\/schedules$/, 'GET', 'ListSchedules'],
  [/^\/2015-03-31\/functions\/[^/]+$/, 'GET', 'GetFunction'],
  [/^\/2015-03-31\/functions\/[^/]+\/configuration$/, 'GET', 'GetFunctionConfiguration'],
  [/^\/2015-03-31\/functions\/?$/, 'GET', 'ListFunctions'],
  [/^\/2015-03-31\/functions\/[^/]+\/invocations$/, 'POST', 'Invoke'],
  [/^\/2019-09-25\/functions\/[^/]+\/event-invoke-config$/, 'GET', 'GetFunctionEventInvokeConfig'],
  [/^\/2019-09-25\/functions\/[^/]+\/event-invoke-config$/, 'PUT', 'PutFunctionEventInvokeConfig'],
];

/** Query parameters of plain object and listing requests (not sub-resources). */
const S3_PLAIN_PARAMS = new Set([
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'list-type',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'x-id',
  'versionId',
  'key-marker',
  'version-id-marker',
  'partNumber',
  'response-content-type',
  'response-content-disposition',
  'response-cache-control',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
  'X-Amz-User-Agent',
  'x-amz-checksum-mode',
]);

export function parseRequest(req: IncomingMessage, body: Buffer): AwsRequest {
  const method = req.method ?? 'GET';
  const base = classify(method, req.url ?? '/', req.headers, body);
  const url = new URL(req.url ?? '/', 'http://front.invalid');
  const auth = String(req.headers.authorization ?? '');
  const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
  const accessKey = scope?.[1] ?? url.searchParams.get('X-Amz-Credential')?.split('/')[0] ?? 'anonymous';
  const region = scope?.[2] ?? 'us-east-1';
  let operation = base.operation;
  if (base.service === 's3' && /^s3:(Get|Put|Delete|Head)(Bucket|Object)$/.test(operation)) {
    // A sub-resource the fault proxy's table does not name (`?acl`, `?policy`, `?cors`, …):
    // named after it, so that it is mapped on its own or refused by name, never taken for a listing.
    const sub = [...url.searchParams.keys()].find((k) => !S3_PLAIN_PARAMS.has(k));
    if (sub)
      operation = `s3:${method.charAt(0)}${method.slice(1).toLowerCase()}${sub.charAt(0).toUpperCase()}${sub.slice(1)}`;
  }
  if (base.protocol === 'other') {
    const hit = REST_JSON.find(([re, m]) => m === method && re.test(url.pathname));
    if (hit) operation = `${base.service}:${hit[2]}`;
  }
  const contentType = String(req.headers['content-type'] ?? '');
  const form = contentType.startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(body.toString('utf8'))
    : new URLSearchParams();
  let json: Record<string, unknown> = {};
  if (base.protocol === 'json' || (base.protocol === 'other' && contentType.includes('json'))) {
    try {
      json = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      json = {};
    }
  }
  const out: AwsRequest = {
    service: base.service,
    protocol: base.protocol,
    operation,
    accessKey,
    region,
    method,
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    form,
    json,
    body,
  };
  if (base.service === 's3') {
    const [bucket, ...rest] = url.pathname.split('/').filter(Boolean);
    out.bucket = bucket ? decodeURIComponent(bucket) : undefined;
    if (rest.length) out.key = decodeURIComponent(rest.join('/'));
  }
  return out;
}

/** `Prefix.1.Key`/`Prefix.1.Value` form fields (and `Prefix.member.1.…`) as a list of records. */
export function formList(form: URLSearchParams, prefix: string): Record<string, string>[] {
  const items = new Map<string, Record<string, string>>();
  for (const [k, v] of form) {
    if (!k.startsWith(`${prefix}.`)) continue;
    const rest = k.slice(prefix.length + 1).replace(/^(member|Tag|item)\./, '');
    const m = /^(\d+)(?:\.(.+))?$/.exec(rest);
    if (!m) continue;
    const [, idx = '', field = 'value'] = m;
    const item = items.get(idx) ?? {};
    item[field] = v;
    items.set(idx, item);
  }
  return [...items.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map(([, v]) => v);
}

/** Query-protocol tags (`Tags.Tag.N.Key/Value`, `Tags.member.N.Key/Value`, `Tag.N.Key/Value`). */
export function formTags(form: URLSearchParams, prefix = 'Tags'): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of formList(form, prefix)) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  return tags;
}

/** EC2 TagSpecification.N.ResourceType / .Tag.M.Key/Value, by resource type. */
export function ec2TagSpecifications(form: URLSearchParams): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const types = new Map<string, string>();
  for (const [k, v] of form) {
    const m = /^TagSpecification\.(\d+)\.ResourceType$/.exec(k);
    if (m?.[1]) types.set(m[1], v);
  }
  for (const [n, type] of types) {
    const tags: Record<string, string> = {};
    for (const [k, v] of form) {
      const m = new RegExp(`^TagSpecification\\.${n}\\.Tag\\.(\\d+)\\.(Key|Value)$`).exec(k);
      if (m?.[2] === 'Key') tags[v] = form.get(`TagSpecification.${n}.Tag.${m[1]}.Value`) ?? '';
    }
    out[type] = { ...out[type], ...tags };
  }
  return out;
}
