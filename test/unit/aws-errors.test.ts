// The one classifier of AWS refusals: each kind from the codes the services
// document, the HTTP status where S3 answers without a body, and never a kind
// for an error that says nothing.
import { NoSuchKey } from '@aws-sdk/client-s3';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  errorKinds,
  isAwsError,
  isMissingBucket,
  isMissingObject,
  isUnknownVersion,
  tolerate,
} from '../../shared/aws/errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const named = (name: string, status?: number) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe('AWS error kinds', () => {
  it.each([
    ['NoSuchKey', 'notFound'],
    ['NoSuchBucket', 'notFound'],
    ['InvalidSnapshot.NotFound', 'notFound'],
    ['DBSnapshotNotFoundFault', 'notFound'],
    ['DBSnapshotAlreadyExists', 'alreadyExists'],
    ['InvalidAMIName.Duplicate', 'alreadyExists'],
    ['ThrottlingException', 'throttled'],
    ['RequestLimitExceeded', 'throttled'],
    ['AccessDenied', 'accessDenied'],
    ['UnauthorizedOperation', 'accessDenied'],
    ['InvalidDBInstanceState', 'invalidState'],
    ['InvalidDBClusterStateFault', 'invalidState'],
    ['InvalidObjectState', 'invalidState'],
    ['NoSuchLifecycleConfiguration', 'notConfigured'],
    ['PreconditionFailed', 'preconditionFailed'],
  ] as const)('%s is %s', (name, kind) => {
    expect([...errorKinds(named(name))]).toEqual([kind]);
  });

  it('reads the SDK exception classes and, without a body, the documented HTTP status', () => {
    expect(isAwsError(new NoSuchKey({ message: 'gone', $metadata: {} }), 'notFound')).toBe(true);
    expect([...errorKinds(named('Error', 404))]).toEqual(['notFound']);
    expect([...errorKinds(named('Error', 403))]).toEqual(['accessDenied']);
    expect([...errorKinds(named('Error', 412))]).toEqual(['preconditionFailed']);
    expect([...errorKinds(named('Error', 503))]).toEqual(['throttled']);
  });

  it('never reads "none found" into a refusal or an unnamed error', () => {
    expect(isAwsError(named('AccessDenied', 403), 'notFound')).toBe(false);
    expect(isAwsError(named('ThrottlingException', 400), 'notFound')).toBe(false);
    expect(errorKinds(new Error('socket hang up')).size).toBe(0);
  });

  it('tolerates only the kinds asked for', async () => {
    await expect(tolerate(['notFound'], () => Promise.reject(named('NoSuchKey')), 'none')).resolves.toBe(
      'none',
    );
    await expect(tolerate(['notFound'], () => Promise.reject(named('AccessDenied')), 'none')).rejects.toThrow(
      'AccessDenied happened',
    );
  });

  it('knows a missing object version: not found, a delete marker (405), an unknown version id', () => {
    expect(isMissingObject(named('NoSuchVersion', 404))).toBe(true);
    expect(isMissingObject(named('MethodNotAllowed', 405))).toBe(true);
    expect(isMissingObject(named('AccessDenied', 403))).toBe(false);
    expect(isUnknownVersion(named('InvalidArgument', 400))).toBe(true);
    expect(isUnknownVersion(named('NoSuchKey', 404))).toBe(false);
  });

  it('tells a missing bucket from a missing key', () => {
    expect(isMissingBucket(named('NoSuchBucket', 404))).toBe(true);
    expect(isMissingBucket(named('NoSuchKey', 404))).toBe(false);
    expect(isMissingBucket(named('AccessDenied', 403))).toBe(false);
  });
});

/** Lines of `file` outside comments that read an AWS error's identity: its code, class or HTTP status. */
function errorReads(file: string): string[] {
  const AWS_ERROR =
    /\$metadata|\$fault|instanceof [A-Z]\w*(Exception|Fault)\b|'(NoSuch\w+|\w+NotFound(Fault|Exception)?|\w+AlreadyExists(Fault|Exception)?|Throttling\w*|AccessDenied\w*)'/;
  return readFileSync(join(ROOT, file), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l) && AWS_ERROR.test(l))
    .map((l) => `${file}: ${l.trim()}`);
}

const walk = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );

describe('one classifier', () => {
  it('no production code but shared/runtime/aws-errors.ts reads an AWS error code, exception class or status', () => {
    const CLASSIFIER = 'shared/runtime/aws-errors.ts';
    expect(errorReads(CLASSIFIER).length, 'the scan sees the classifier read them').toBeGreaterThan(0);
    const elsewhere = ['shared', 'functions', 'cli']
      .flatMap(walk)
      .filter((f) => f !== CLASSIFIER)
      .flatMap(errorReads);
    expect(elsewhere).toEqual([]);
  });
});
