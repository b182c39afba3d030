// Policy: the schema of backup-policy.yml, in zod/mini so that every Lambda
// can validate its policy at cold start without ~440 KB of full zod. The same
// schema gives the TypeScript type and the message a person reads.
import * as z from 'zod/mini';
import { isValidTimeZone } from './calendar.ts';
import { scheduleExpressionProblem } from './schedule-expression.ts';
import { sourceProblems } from './sources.ts';

const S3_URL = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.*\/)?$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

const s3Url = z
  .string()
  .check(z.regex(S3_URL, 'expected an S3 URL of the form s3://bucket/prefix/ (ending in "/")'));
const region = z.string().check(z.regex(REGION, 'expected an AWS region such as ap-northeast-1'));
const positiveInt = z.int().check(z.positive('expected a positive whole number'));
const atLeast = (n: number, why: string) => z.int().check(z.gte(n, `expected at least ${n} ${why}`));
/** An IAM role name (role/<name> in the vault's account) or a role/user ARN; `*` wildcards allowed (ArnLike). */
const administrator = z.string().check(
  z.regex(
    /^([\w+=,.@*-]{1,64}|arn:aws[\w-]*:iam::(\d{12}|\*):(role|user)\/[\w+=,.@*/-]+)$/,
    'expected an IAM role name (such as kura-admin) or a role/user ARN (arn:aws:iam::<account>:role/<name>)',
  ),
  // A wildcard that matches anyone (`*`, `role/*`, any account) would open
  // the vault's bucket and key policies to every principal it matches.
  z.refine(
    (a) => !/^arn:[^:]*:iam::\*:/.test(a),
    'expected an administrator of one account; a wildcard account (iam::*:) matches every AWS account',
  ),
  z.refine(
    (a) => (a.split(/:(?:role|user)\//).pop() ?? a).replace(/[*?]/g, '').replace(/\//g, '').length >= 4,
    'expected a role name or ARN that names someone; a wildcard such as "*" or "role/*" matches every principal (keep at least 4 literal characters in the name)',
  ),
);
const accountId = z
  .string()
  .check(z.regex(/^\d{12}$/, 'expected a 12-digit AWS account id (quote it in YAML)'));
const roleArn = z.string().check(z.regex(/^arn:aws:iam::\d{12}:role\/.+$/, 'expected an IAM role ARN'));
/** STS AssumeRole's ExternalId: 2 to 1224 characters of [\w+=,.@:/-]. */
const externalId = z
  .string()
  .check(
    z.minLength(2, 'expected an external id of at least 2 characters (an STS limit)'),
    z.maxLength(1224, 'expected an external id of at most 1224 characters (an STS limit)'),
    z.regex(/^[\w+=,.@:/-]*$/, 'expected an external id of letters, digits and +=,.@:/-_ (an STS limit)'),
  );
const source = z.strictObject({
  accountId,
  roleArn,
  externalId,
  /** Where its tagged databases and instances live; default: [region] (the policy's). */
  regions: z.optional(
    z.array(region).check(z.minLength(1, 'expected at least one region (or no regions key)')),
  ),
});

// An empty or oversized string here passes a bare z.string() and fails only
// later, at run time (an empty selector tag key silently selects nothing):
// reject it now. `max` is the AWS limit of the field.
const nonEmpty = (what: string, max: number) =>
  z
    .string()
    .check(
      z.minLength(1, `expected ${what}, not an empty string`),
      z.maxLength(max, `expected ${what} of at most ${max} characters`),
    );

const scheduleExpression = z.string().check(
  z.superRefine((value, ctx) => {
    const problem = scheduleExpressionProblem(value);
    if (problem)
      ctx.addIssue({ code: 'custom', message: `invalid schedule expression: ${problem}`, input: value });
  }),
);

export const SCHEDULED_TARGETS = [
  'rds-snapshot',
  'content-backup',
  'log-archive',
  'log-bundle',
  'ami-backup',
  'validation',
  'rehearsal',
] as const;
export type ScheduledTarget = (typeof SCHEDULED_TARGETS)[number];

const schedules = z.strictObject({
  'rds-snapshot': z.optional(scheduleExpression),
  'content-backup': z.optional(scheduleExpression),
  'log-archive': z.optional(scheduleExpression),
  'log-bundle': z.optional(scheduleExpression),
  'ami-backup': z.optional(scheduleExpression),
  validation: z.optional(scheduleExpression),
  /** The yearly full rehearsal (the restore state machine restoring every class, then checked and reported); default: once a year. */
  rehearsal: z.optional(scheduleExpression),
});

const database = z
  .strictObject({
    retainDays: positiveInt,
    minGenerations: z._default(positiveInt, 3),
    rpoMinutes: z._default(positiveInt, 5),
    enforceBackupRetention: z._default(z.boolean(), false),
    copyTags: z._default(z.array(z.string()), []),
    /** The manual snapshot quota assumed where RDS DescribeAccountAttributes cannot be read. */
    snapshotQuota: z._default(positiveInt, 100),
    /** Hours a snapshot or copy may stay in progress before a run warns (and the next one fails). */
    stuckAfterHours: z._default(positiveInt, 12),
    copy: z.optional(
      z.strictObject({ region, kmsKeyId: z.optional(nonEmpty('a KMS key id, ARN or alias', 2048)) }),
    ),
    shareWithIsolatedAccount: z._default(z.boolean(), false),
    /**
     * With `sources`: the key of the backup account (in the policy's region) that re-encrypts
     * the backup account's copies of source snapshots (CopyDBSnapshot KmsKeyId).
     */
    kmsKeyId: z.optional(nonEmpty('a KMS key id, ARN or alias', 2048)),
    /** With `sources`: kura's snapshots kept in the source account once copied (fast local restores). */
    keepInSource: z._default(
      atLeast(0, 'snapshots (0 keeps none in the source account once the backup account has its copy)'),
      1,
    ),
  })
  .check(
    z.superRefine((db, ctx) => {
      // Daily snapshots: keeping fewer days than the minimum generations
      // would make the floor unreachable and the retention a lie.
      if (db.retainDays < db.minGenerations) {
        ctx.addIssue({
          code: 'custom',
          path: ['retainDays'],
          input: db.retainDays,
          message: `retention of ${db.retainDays} days is below the minimum generations (${db.minGenerations}); expected retainDays >= minGenerations`,
        });
      }
    }),
  );

const contentSource = z.strictObject({
  // Bounded: the name goes into vault keys, schedule and state names.
  name: z
    .string()
    .check(
      z.regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case name (a-z, 0-9, -)'),
      z.maxLength(63, 'expected a name of at most 63 characters'),
    ),
  source: s3Url,
  generations: atLeast(2, 'generations (one to restore while the next is written)'),
  /**
   * How far beyond the generations' need (generations + 1 days) a content version's lock is
   * set, at each copy and each lengthening (domain/content-locks.ts): fewer PutObjectRetention
   * requests against replaced versions held longer. Default: generations + 1; never less.
   */
  lockStrideDays: z.optional(positiveInt),
  /** The source account that owns the bucket (required when there is more than one source). */
  account: z.optional(accountId),
});

const transitionDefaults = {
  minObjectSizeBytes: 131_072,
  infrequentAccessDays: 30,
  glacierDays: 90,
  deepArchiveDays: 180,
};

const logs = z
  .strictObject({
    landing: s3Url,
    /** The source account that owns the landing bucket (required when there is more than one source). */
    account: z.optional(accountId),
    keepMonths: z._default(positiveInt, 2),
    classes: z.record(
      z.string().check(z.regex(/^[a-z][a-z0-9-]*$/, 'expected a lower-case class name')),
      z.strictObject({ retainDays: positiveInt }),
    ),
    transitions: z._default(
      z.strictObject({
        minObjectSizeBytes: z._default(z.int().check(z.nonnegative()), transitionDefaults.minObjectSizeBytes),
        infrequentAccessDays: z._default(atLeast(30, 'days (S3 minimum before STANDARD_IA)'), 30),
        glacierDays: z._default(positiveInt, 90),
        deepArchiveDays: z._default(positiveInt, 180),
      }),
      transitionDefaults,
    ),
  })
  .check(
    z.superRefine((l, ctx) => {
      for (const [name, c] of Object.entries(l.classes)) {
        if (c.retainDays < l.keepMonths * 31) {
          ctx.addIssue({
            code: 'custom',
            path: ['classes', name, 'retainDays'],
            input: c.retainDays,
            message: `retention of ${c.retainDays} days is shorter than the ${l.keepMonths} months logs stay loose; expected at least ${l.keepMonths * 31}`,
          });
        }
      }
    }),
  );

const images = z.strictObject({
  generations: atLeast(2, 'generations'),
  reboot: z._default(z.boolean(), false),
  copyToDrRegion: z._default(z.boolean(), false),
  shareWithIsolatedAccount: z._default(z.boolean(), false),
  drRegion: z.optional(region),
  /** KMS key (in drRegion) that re-encrypts DR copies of encrypted images; default: database.copy.kmsKeyId when the regions match. */
  drKmsKeyId: z.optional(nonEmpty('a KMS key id, ARN or alias', 2048)),
  /** Hours an image or its copy may stay pending before a run warns (and the next one fails). */
  stuckAfterHours: z._default(positiveInt, 24),
  /**
   * With sources: how many of an instance's newest images stay in its source
   * account (fast local restores) once the backup account holds its copy; 0:
   * none. The backup account's copies are the recovery points either way.
   */
  keepInSource: z._default(
    z.int().check(z.gte(0, 'expected 0 or more images to keep in the source account')),
    1,
  ),
  /**
   * With sources: the backup account's KMS key (in the policy's region) that
   * encrypts its copies of the source images (an ami-backup run with sources
   * refuses to start without it; see docs/deploy.md).
   */
  kmsKeyId: z.optional(nonEmpty('a KMS key id, ARN or alias of the backup account', 2048)),
  /** How long one run waits for new images to become `available` (shared by all instances); the next run catches up. */
  waitSeconds: z._default(
    z
      .int()
      .check(
        z.gte(0, 'expected 0 or more seconds'),
        z.lte(840, 'expected at most 840 seconds (the Lambda runs 15 minutes)'),
      ),
    600,
  ),
}).check(
  z.superRefine((img, ctx) => {
    // The source keeps a subset of what the backup account keeps, never more.
    if (img.keepInSource > img.generations) {
      ctx.addIssue({
        code: 'custom',
        path: ['keepInSource'],
        input: img.keepInSource,
        message: `keeping ${img.keepInSource} images in the source account is more than the ${img.generations} generations kept; expected at most images.generations`,
      });
    }
  }),
);

const sqlProbe = z.strictObject({
  name: z.string(),
  sql: z.string(),
  kind: z.enum(['rowCount', 'latestRowAge', 'migrationVersion', 'value']),
  min: z.optional(z.number()),
  maxAgeMinutes: z.optional(z.number()),
});

export const policySchema = z
  .strictObject({
    version: z.literal(1),
    timezone: z.string().check(z.refine(isValidTimeZone, 'expected an IANA time zone such as Asia/Tokyo')),
    region,
    selector: z._default(
      z.strictObject({
        tagKey: nonEmpty('a tag key such as kura:backup', 128),
        tagValue: z.string().check(z.maxLength(256, 'expected a tag value of at most 256 characters')),
      }),
      {
        tagKey: 'kura:backup',
        tagValue: 'true',
      },
    ),
    schedules,
    vault: z.strictObject({
      bucket: z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name')),
      kmsKeyAlias: z._default(z.string().check(z.startsWith('alias/')), 'alias/kura-vault'),
      reportsPrefix: z._default(z.string().check(z.endsWith('/')), 'reports/'),
      manifestsPrefix: z._default(z.string().check(z.endsWith('/')), 'manifests/'),
      /**
       * Who may read and write backup data besides kura's own function roles
       * (vault bucket policy and key policy deny everyone else). Role names
       * mean roles of the vault's account. Default: the role kura-admin.
       */
      administrators: z._default(
        z.array(administrator).check(z.minLength(1, 'expected at least one administrator')),
        ['kura-admin'],
      ),
      /**
       * The bucket's default retention, and the mode every write states with its
       * class's retain-until date (shared/domain/vault-retention.ts). COMPLIANCE:
       * no one, root included, can shorten or remove a locked version.
       */
      objectLock: z._default(
        z.strictObject({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), days: positiveInt }),
        {
          mode: 'COMPLIANCE' as const,
          days: 7,
        },
      ),
      /** How long reports (validation, restores, image records) are locked. */
      reportsRetainYears: z._default(positiveInt, 7),
    }),
    database: z.optional(database),
    content: z._default(z.array(contentSource), []),
    logs: z.optional(logs),
    images: z.optional(images),
    isolatedAccount: z.optional(
      z.strictObject({
        accountId,
        roleArn,
        externalId: z.optional(externalId),
        region: z.optional(region),
        /** The probe runner the isolated-account template deploys (its ProbeRunnerName; default kura-probe-runner). */
        probeRunner: z.optional(
          z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a Lambda function name')),
        ),
      }),
    ),
    validation: z.optional(
      z.strictObject({
        rto: z._default(
          z.strictObject({ dataMinutes: positiveInt, systemMinutes: positiveInt, logsMinutes: positiveInt }),
          { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 },
        ),
        contentSample: z._default(positiveInt, 50),
        sqlProbes: z._default(z.array(sqlProbe), []),
      }),
    ),
    notifications: z.optional(z.strictObject({ topicName: nonEmpty('an SNS topic name', 256) })),
    /**
     * The production accounts kura pulls from (DESIGN.md, **contract**); absent:
     * kura's own account (single-account mode). Each is reached through its
     * kura-source role (deploy/source-account.yml) with its ExternalId.
     */
    sources: z.optional(
      z
        .array(source)
        .check(z.minLength(1, 'expected at least one source account (or no sources key at all)')),
    ),
  })
  .check(
    z.superRefine((p, ctx) => {
      const names = new Set<string>();
      for (const [i, c] of p.content.entries()) {
        if (names.has(c.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['content', i, 'name'],
            input: c.name,
            message: `duplicate content name "${c.name}"; expected each content name once`,
          });
        }
        names.add(c.name);
        // Less would lengthen a lock by less than a copy's (a shortening, which COMPLIANCE refuses).
        if (c.lockStrideDays !== undefined && c.lockStrideDays < c.generations + 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['content', i, 'lockStrideDays'],
            input: c.lockStrideDays,
            message: `lockStrideDays ${c.lockStrideDays} is below a term of content ${c.name} (generations + 1 = ${c.generations + 1}); expected lockStrideDays >= ${c.generations + 1}`,
          });
        }
      }
      for (const issue of sourceProblems(p)) ctx.addIssue({ code: 'custom', ...issue });
      const iso = p.isolatedAccount;
      // Only a well-formed account id is compared (a bad one is reported by itself).
      if (iso && /^\d{12}$/.test(iso.accountId) && !iso.roleArn.includes(`::${iso.accountId}:`)) {
        ctx.addIssue({
          code: 'custom',
          path: ['isolatedAccount', 'roleArn'],
          input: iso.roleArn,
          message: `expected a role in the isolated account ${iso.accountId}`,
        });
      }
    }),
  );

export type Policy = z.infer<typeof policySchema>;
export type DatabasePolicy = NonNullable<Policy['database']>;
export type ContentSourcePolicy = Policy['content'][number];
export type LogsPolicy = NonNullable<Policy['logs']>;
export type ImagesPolicy = NonNullable<Policy['images']>;
