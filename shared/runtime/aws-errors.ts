// Runtime: the one place AWS errors are classified. Callers ask what kind
// of refusal an error is ("not found", "already exists", "throttled", "access
// denied", "invalid state", …) instead of matching names themselves, so that a
// path that tolerates one expected refusal never swallows another: an
// AccessDenied or a throttle is never read as "none found".
//
// Kinds are decided by the error codes the services document (the SDK's
// `name` for modelled errors, the wire code otherwise) and, where a service
// answers without a body (S3 HEAD), by the HTTP status it documents.

export type AwsErrorKind =
  /** The resource (or that version of it) does not exist. */
  | 'notFound'
  /** A resource of that name or token exists already. */
  | 'alreadyExists'
  /** Throttled; the SDK already retried with backoff. */
  | 'throttled'
  /** Refused by IAM, a resource policy, a key policy or an SCP; or bad credentials. */
  | 'accessDenied'
  /** The resource exists but its state refuses the action now (creating, pending, archived, …). */
  | 'invalidState'
  /** An AMI that is deregistered or still pending (EC2 says InvalidAMIID.Unavailable for both). */
  | 'unavailable'
  /** Another resource still uses it (a snapshot behind an image, a volume attached, …). */
  | 'inUse'
  /** A conditional request's condition did not hold (If-Match, If-None-Match). */
  | 'preconditionFailed'
  /** A bucket setting that is simply not configured (no lifecycle, no policy, …). */
  | 'notConfigured'
  /** An account or resource quota is reached. */
  | 'quotaExceeded'
  /** Work of that kind is already under way (an archive restore). */
  | 'inProgress'
  /** A parameter names something the service refuses (EC2: an instance profile that does not exist). */
  | 'invalidParameter';

const EXACT: Record<string, AwsErrorKind[]> = {
  // S3 (S3 API Reference, "Error responses"); HEAD answers 404 with no body, named NotFound.
  NoSuchKey: ['notFound'],
  NoSuchBucket: ['notFound'],
  NoSuchVersion: ['notFound'],
  NoSuchUpload: ['notFound'],
  NotFound: ['notFound'],
  BucketAlreadyOwnedByYou: ['alreadyExists'],
  BucketAlreadyExists: ['alreadyExists'],
  PreconditionFailed: ['preconditionFailed'],
  ConditionalRequestConflict: ['preconditionFailed'],
  InvalidObjectState: ['invalidState'],
  ObjectNotInActiveTierError: ['invalidState'],
  RestoreAlreadyInProgress: ['inProgress'],
  ObjectLockConfigurationNotFoundError: ['notConfigured'],
  ServerSideEncryptionConfigurationNotFoundError: ['notConfigured'],
  NoSuchPublicAccessBlockConfiguration: ['notConfigured'],
  NoSuchBucketPolicy: ['notConfigured'],
  NoSuchLifecycleConfiguration: ['notConfigured'],
  NoSuchTagSet: ['notConfigured'],
  SlowDown: ['throttled'],
  // EC2 (EC2 API Reference, "Error codes").
  'InvalidAMIID.Unavailable': ['unavailable'],
  'InvalidAMIName.Duplicate': ['alreadyExists'],
  'InvalidSnapshot.InUse': ['inUse'],
  VolumeInUse: ['inUse'],
  DependencyViolation: ['inUse'],
  IncorrectState: ['invalidState'],
  IncorrectInstanceState: ['invalidState'],
  RequestLimitExceeded: ['throttled'],
  UnauthorizedOperation: ['accessDenied'],
  AuthFailure: ['accessDenied'],
  InstanceLimitExceeded: ['quotaExceeded'],
  InvalidParameterValue: ['invalidParameter'],
  SnapshotLimitExceeded: ['quotaExceeded'],
  // RDS (RDS API Reference, per action "Errors").
  SnapshotQuotaExceeded: ['quotaExceeded'],
  SnapshotQuotaExceededFault: ['quotaExceeded'],
  SharedSnapshotQuotaExceeded: ['quotaExceeded'],
  SharedSnapshotQuotaExceededFault: ['quotaExceeded'],
  DBClusterToBeDeletedHasActiveMembers: ['inUse'],
  // Common to every service (AWS general reference, "Common errors").
  AccessDenied: ['accessDenied'],
  AccessDeniedException: ['accessDenied'],
  AuthorizationError: ['accessDenied'],
  InvalidClientTokenId: ['accessDenied'],
  UnrecognizedClientException: ['accessDenied'],
  ExpiredToken: ['accessDenied'],
  ExpiredTokenException: ['accessDenied'],
  SignatureDoesNotMatch: ['accessDenied'],
  KMSAccessDeniedException: ['accessDenied'],
  Throttling: ['throttled'],
  ThrottlingException: ['throttled'],
  ThrottledException: ['throttled'],
  TooManyRequestsException: ['throttled'],
  RequestThrottled: ['throttled'],
  RequestThrottledException: ['throttled'],
  PriorRequestNotComplete: ['throttled'],
  LimitExceededException: ['quotaExceeded'],
  ServiceQuotaExceededException: ['quotaExceeded'],
  ResourceLimitExceeded: ['quotaExceeded'],
  NoSuchEntity: ['notFound'],
  NoSuchEntityException: ['notFound'],
  EntityAlreadyExists: ['alreadyExists'],
};

// Naming conventions the services document for whole families of codes.
const PATTERNS: [RegExp, AwsErrorKind][] = [
  // EC2: Invalid<Resource>ID.NotFound, Invalid<Resource>.NotFound; RDS: <Resource>NotFound[Fault];
  // KMS and others: NotFoundException, ResourceNotFoundException.
  [/\.NotFound$|NotFound(Fault|Exception)?$/, 'notFound'],
  // RDS: <Resource>AlreadyExists[Fault]; KMS: AlreadyExistsException; EC2: Invalid<…>.Duplicate.
  [/AlreadyExists(Fault|Exception)?$|\.Duplicate$/, 'alreadyExists'],
  // RDS: InvalidDBSnapshotState, InvalidDBClusterSnapshotStateFault, InvalidDBInstanceState,
  // InvalidDBClusterStateFault; KMS: KMSInvalidStateException.
  [/^Invalid\w*State(Fault|Exception)?$|InvalidStateException$/, 'invalidState'],
];

function codeOf(err: unknown): string {
  const e = err as { name?: unknown; Code?: unknown; code?: unknown } | null | undefined;
  for (const v of [e?.name, e?.Code, e?.code]) {
    // The SDK names unmodelled errors by their code; `Error` alone says nothing.
    if (typeof v === 'string' && v !== '' && v !== 'Error') return v;
  }
  return '';
}

/** The error's HTTP status, when a service answered. */
export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null | undefined)?.$metadata?.httpStatusCode;
}

/** The service's name for the error (modelled exception name or wire code), '' when there is none. */
export function awsErrorName(err: unknown): string {
  return codeOf(err);
}

/** Every kind the error is, by its documented code, else by its documented HTTP status. */
export function errorKinds(err: unknown): Set<AwsErrorKind> {
  const code = codeOf(err);
  const kinds = new Set<AwsErrorKind>(EXACT[code] ?? []);
  if (kinds.size === 0) for (const [re, kind] of PATTERNS) if (re.test(code)) kinds.add(kind);
  if (kinds.size === 0) {
    const status = httpStatus(err);
    if (status === 404) kinds.add('notFound');
    else if (status === 403) kinds.add('accessDenied');
    else if (status === 412) kinds.add('preconditionFailed');
    else if (status === 429 || status === 503) kinds.add('throttled');
  }
  return kinds;
}

/** True when the error is of any of the given kinds. */
export function isAwsError(err: unknown, ...kinds: AwsErrorKind[]): boolean {
  const found = errorKinds(err);
  return kinds.some((k) => found.has(k));
}

/**
 * S3: that object or that version of it is not there to read: not found, or
 * a delete marker, which S3 answers with 405 MethodNotAllowed when it is
 * asked for by version id.
 */
export function isMissingObject(err: unknown): boolean {
  return isAwsError(err, 'notFound') || codeOf(err) === 'MethodNotAllowed' || httpStatus(err) === 405;
}

/** S3: the bucket itself is not there (NoSuchBucket), as against a missing key in it. */
export function isMissingBucket(err: unknown): boolean {
  return codeOf(err) === 'NoSuchBucket';
}

/** S3: a version id it does not know ("Invalid version id specified", 400 InvalidArgument). */
export function isUnknownVersion(err: unknown): boolean {
  return codeOf(err) === 'InvalidArgument';
}

/** A one-line account of an error that names it: "AccessDenied (HTTP 403): …". */
export function describeAwsError(err: unknown): string {
  const name = codeOf(err) || (err instanceof Error ? err.constructor.name : 'Error');
  const status = httpStatus(err);
  const message = err instanceof Error ? err.message : String(err);
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${message}`;
}

/**
 * Runs `call`; an error of one of `kinds` gives `fallback` instead (the one
 * expected refusal of that call). Any other error is thrown unchanged.
 */
export async function tolerate<T, F = undefined>(
  kinds: AwsErrorKind[],
  call: () => Promise<T>,
  fallback?: F,
): Promise<T | F> {
  try {
    return await call();
  } catch (err) {
    if (isAwsError(err, ...kinds)) return fallback as F;
    throw err;
  }
}
