// Local runtime (IAM front layer): what AWS authorizes each SDK command on,
// from the Service Authorization Reference: the IAM actions, the resources
// (each one a separate authorization that must be allowed) and the condition
// keys the request carries. One line per command. A command missing here is
// refused with its name (never silently allowed): add its line.
//
// Conventions: `s3obj`, `rds`, `ec2`, `key` build ARNs; `tags` marks a
// resource whose tags AWS presents as aws:ResourceTag/*; `kms` marks a key
// the front layer resolves (alias, id, ARN or a bucket's default key) to the
// key of the templates it is.
import type { AwsRequest } from './request.ts';
import { ec2TagSpecifications, formList, formTags } from './request.ts';

export interface Need {
  action: string;
  /** Resource ARN; `*` for actions that take no resource. */
  resource: string;
  /** The account that owns the resource (default: the caller's). */
  account?: string;
  context?: Record<string, string | string[]>;
  /** Read this resource's tags from the emulator into aws:ResourceTag/*. */
  tags?: boolean;
  /** A KMS key to resolve: alias name, key id, key ARN, or `bucket:<name>` (its default key). */
  kms?: string;
  /** A snapshot ARN (RDS, or EC2 `arn:aws:ec2:<region>::snapshot/<id>`) whose encryption key this need is on (resolved by the front layer). */
  kmsOfSnapshot?: string;
  /**
   * An image (`arn:aws:ec2:<region>::image/<id>`, its own or one shared with the caller) whose
   * snapshots' keys this need is on, each (resolved by the front layer; none: no key is used).
   */
  kmsOfImage?: string;
  /** An image whose owner account AWS presents as ec2:Owner. */
  imageOwner?: string;
  /** An EBS snapshot whose owner account AWS presents as ec2:Owner. */
  snapshotOwner?: string;
  /**
   * An instance profile (name or ARN) handed to an instance: AWS asks for iam:PassRole on the
   * role inside it, with iam:PassedToService ec2.amazonaws.com (resolved by the front layer).
   */
  passRoleOfProfile?: string;
}

export interface Ctx {
  /** The caller's account and region. */
  account: string;
  region: string;
}

type Mapper = (r: AwsRequest, c: Ctx) => Need[];

const s3b = (b = '') => `arn:aws:s3:::${b}`;
const s3o = (b = '', k = '') => `arn:aws:s3:::${b}/${k}`;
const rds = (c: Ctx, type: string, id = '*') =>
  id.startsWith('arn:') ? id : `arn:aws:rds:${c.region}:${c.account}:${type}:${id}`;
const ec2 = (c: Ctx, type: string, id = '*', account = c.account) =>
  type === 'image' || type === 'snapshot'
    ? `arn:aws:ec2:${c.region}::${type}/${id}`
    : `arn:aws:ec2:${c.region}:${account}:${type}/${id}`;
const accountOfArn = (arn: string) => arn.split(':')[4] || undefined;
const f = (r: AwsRequest, k: string) => r.form.get(k) ?? '';

/** Giving an instance a profile passes the profile's role: AWS authorizes iam:PassRole on it. */
const passProfile = (r: AwsRequest): Need[] => {
  const profile = f(r, 'IamInstanceProfile.Arn') || f(r, 'IamInstanceProfile.Name');
  return profile ? [{ action: 'iam:PassRole', resource: '*', passRoleOfProfile: profile }] : [];
};
const j = (r: AwsRequest, k: string) => String(r.json[k] ?? '');
const same = (action: string, resource = '*'): Need => ({ action, resource });
/** A read or write of no particular resource (Describe*, List*): the action on `*`. */
const any = (r: AwsRequest) => [same(r.operation)];
const tagContext = (tags: Record<string, string>) =>
  Object.keys(tags).length
    ? {
        'aws:TagKeys': Object.keys(tags),
        ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
      }
    : {};
/** S3: the SSE-KMS key a write uses: the request's header, else the bucket's default. */
const s3Kms = (r: AwsRequest, action: string, bucket = r.bucket): Need => ({
  action,
  resource: '*',
  kms: String(r.headers['x-amz-server-side-encryption-aws-kms-key-id'] ?? `bucket:${bucket}`),
  context: { 'kms:ViaService': `s3.${r.region}.amazonaws.com` },
});
const sseContext = (r: AwsRequest) => {
  const key = r.headers['x-amz-server-side-encryption-aws-kms-key-id'];
  const sse = r.headers['x-amz-server-side-encryption'];
  return {
    ...(sse ? { 's3:x-amz-server-side-encryption': String(sse) } : {}),
    ...(key ? { 's3:x-amz-server-side-encryption-aws-kms-key-id': String(key) } : {}),
  };
};
const objectTags = (r: AwsRequest) =>
  Object.fromEntries(new URLSearchParams(String(r.headers['x-amz-tagging'] ?? '')).entries());
const putObject = (r: AwsRequest): Need[] => [
  { action: 's3:PutObject', resource: s3o(r.bucket, r.key), context: sseContext(r) },
  ...(r.headers['x-amz-tagging']
    ? [{ action: 's3:PutObjectTagging', resource: s3o(r.bucket, r.key), context: tagContext(objectTags(r)) }]
    : []),
  ...retentionNeed(r),
  s3Kms(r, 'kms:GenerateDataKey'),
];
/** A request that asks to bypass GOVERNANCE retention also needs s3:BypassGovernanceRetention. */
const bypassNeed = (r: AwsRequest): Need[] =>
  String(r.headers['x-amz-bypass-governance-retention'] ?? '').toLowerCase() === 'true'
    ? [{ action: 's3:BypassGovernanceRetention', resource: s3o(r.bucket, r.key) }]
    : [];
/**
 * A write that states a retention (x-amz-object-lock-mode and -retain-until-date)
 * also needs s3:PutObjectRetention, with the mode as s3:object-lock-mode (S3's
 * condition key; PutObject and CopyObject, Service Authorization Reference).
 */
const retentionNeed = (r: AwsRequest): Need[] => {
  const mode = r.headers['x-amz-object-lock-mode'];
  return mode
    ? [
        {
          action: 's3:PutObjectRetention',
          resource: s3o(r.bucket, r.key),
          context: { 's3:object-lock-mode': String(mode) },
        },
      ]
    : [];
};
const copySource = (r: AwsRequest) => {
  const raw = decodeURIComponent(String(r.headers['x-amz-copy-source'] ?? '')).replace(/^\//, '');
  const [path = '', version] = raw.split('?versionId=');
  const [bucket = '', ...key] = path.split('/');
  return { bucket, key: key.join('/'), version };
};
/** CopyObject/UploadPartCopy: read the source (its version and tags as used), write the destination. */
const copy = (r: AwsRequest, part: boolean): Need[] => {
  const src = copySource(r);
  const out: Need[] = [
    { action: src.version ? 's3:GetObjectVersion' : 's3:GetObject', resource: s3o(src.bucket, src.key) },
    {
      action: 'kms:Decrypt',
      resource: '*',
      kms: `bucket:${src.bucket}`,
      context: { 'kms:ViaService': `s3.${r.region}.amazonaws.com` },
    },
    { action: 's3:PutObject', resource: s3o(r.bucket, r.key), context: sseContext(r) },
  ];
  if (part) return [...out, s3Kms(r, 'kms:GenerateDataKey')];
  out.push(...retentionNeed(r));
  const directive = String(r.headers['x-amz-tagging-directive'] ?? 'COPY');
  if (directive === 'COPY')
    out.push({
      action: src.version ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging',
      resource: s3o(src.bucket, src.key),
    });
  if (directive === 'REPLACE' ? r.headers['x-amz-tagging'] : true)
    out.push({
      action: 's3:PutObjectTagging',
      resource: s3o(r.bucket, r.key),
      context: tagContext(objectTags(r)),
    });
  return [...out, s3Kms(r, 'kms:GenerateDataKey')];
};
const getObject = (r: AwsRequest): Need[] => [
  {
    action: r.query.get('versionId') ? 's3:GetObjectVersion' : 's3:GetObject',
    resource: s3o(r.bucket, r.key),
  },
  {
    action: 'kms:Decrypt',
    resource: '*',
    kms: `bucket:${r.bucket}`,
    context: { 'kms:ViaService': `s3.${r.region}.amazonaws.com` },
  },
];
const listBucket =
  (action: string) =>
  (r: AwsRequest): Need[] => [
    {
      action,
      resource: s3b(r.bucket),
      context: r.query.has('prefix') ? { 's3:prefix': r.query.get('prefix') ?? '' } : {},
    },
  ];
const bucketConf = (action: string) => (r: AwsRequest) => [same(action, s3b(r.bucket))];
const onObject = (action: string, versioned?: string) => (r: AwsRequest) => [
  same(r.query.get('versionId') && versioned ? versioned : action, s3o(r.bucket, r.key)),
];

/** RDS: a snapshot (or cluster snapshot) identifier as ARN; identifiers of another account are ARNs already. */
const snap = (c: Ctx, id: string, cluster = false) => rds(c, cluster ? 'cluster-snapshot' : 'snapshot', id);
const rdsTagged = (action: string, arn: string): Need => ({ action, resource: arn, tags: true });
const rdsTagsOnCreate = (r: AwsRequest, arn: string): Need[] => {
  const tags = formTags(r.form);
  return Object.keys(tags).length
    ? [{ action: 'rds:AddTagsToResource', resource: arn, context: tagContext(tags) }]
    : [];
};
/** KMS: the key named by the request (KeyId or the copy's KmsKeyId), resolved by the front layer. */
const kmsOn = (action: string, key: string, context: Record<string, string | string[]> = {}): Need => ({
  action,
  resource: '*',
  kms: key,
  context,
});
// RDS and EC2 take grants on a key for the resources they create on the caller's behalf.
const viaRds = (r: AwsRequest) => ({
  'kms:ViaService': `rds.${r.region}.amazonaws.com`,
  'kms:GrantIsForAWSResource': 'true',
});
const viaEc2 = (r: AwsRequest) => ({
  'kms:ViaService': `ec2.${r.region}.amazonaws.com`,
  'kms:GrantIsForAWSResource': 'true',
});
/** A copy of an encrypted snapshot: grants on the source snapshot's key and on the target key. */
const copyKeys = (r: AwsRequest, source: string, key: string): Need[] => [
  { action: 'kms:CreateGrant', resource: '*', kmsOfSnapshot: source, context: viaRds(r) },
  { action: 'kms:DescribeKey', resource: '*', kmsOfSnapshot: source, context: viaRds(r) },
  ...(key ? [kmsOn('kms:CreateGrant', key, viaRds(r)), kmsOn('kms:DescribeKey', key, viaRds(r))] : []),
];

/** CopyDB(Cluster)Snapshot: the source, the new snapshot with its tags, and both keys. */
function copySnapshot(r: AwsRequest, c: Ctx, cluster: boolean): Need[] {
  const kind = cluster ? 'DBClusterSnapshotIdentifier' : 'DBSnapshotIdentifier';
  const source = snap(c, f(r, `Source${kind}`), cluster);
  const target = snap(c, f(r, `Target${kind}`), cluster);
  return [
    same(r.operation, source),
    same(r.operation, target),
    ...rdsTagsOnCreate(r, target),
    ...copyKeys(r, source, f(r, 'KmsKeyId')),
  ];
}

/** EC2 tags on create: ec2:CreateTags on each tagged resource type, with ec2:CreateAction. */
const ec2TagsOnCreate = (r: AwsRequest, c: Ctx, action: string, types: Record<string, string>): Need[] =>
  Object.entries(ec2TagSpecifications(r.form)).map(([type, tags]) => ({
    action: 'ec2:CreateTags',
    resource: ec2(c, types[type] ?? type, '*'),
    context: { 'ec2:CreateAction': action, ...tagContext(tags) },
  }));

/**
 * A volume RunInstances makes from a snapshot (BlockDeviceMapping.N.Ebs): the
 * snapshot itself, its owner as ec2:Owner; what EBS does with the snapshot's
 * key on the caller's behalf to read it (EBS user guide, "Share the KMS key
 * used to encrypt a shared Amazon EBS snapshot"; no key: nothing asked); and,
 * when the volume is (re-)encrypted with KmsKeyId, what it does with that key
 * to write it (EBS user guide, "Permissions for users").
 */
function launchVolume(r: AwsRequest, c: Ctx, b: Record<string, string>): Need[] {
  const snapshot = b['Ebs.SnapshotId'];
  const key = b['Ebs.KmsKeyId'];
  const out: Need[] = [];
  if (snapshot) {
    const arn = ec2(c, 'snapshot', snapshot);
    out.push({ action: r.operation, resource: arn, snapshotOwner: snapshot });
    for (const action of [
      'kms:DescribeKey',
      'kms:Decrypt',
      'kms:ReEncryptFrom',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:CreateGrant',
    ])
      out.push({ action, resource: '*', kmsOfSnapshot: arn, context: viaEc2(r) });
  }
  if (key)
    for (const action of [
      'kms:DescribeKey',
      'kms:Decrypt',
      'kms:ReEncryptTo',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:CreateGrant',
    ])
      out.push(kmsOn(action, key, viaEc2(r)));
  return out;
}

export const COMMANDS: Record<string, Mapper> = {
  // --- S3 (objects) --------------------------------------------------------
  's3:GetObject': getObject,
  's3:HeadObject': getObject,
  's3:PutObject': putObject,
  's3:CreateMultipartUpload': putObject,
  's3:UploadPart': (r) => [same('s3:PutObject', s3o(r.bucket, r.key)), s3Kms(r, 'kms:GenerateDataKey')],
  's3:CompleteMultipartUpload': (r) => [same('s3:PutObject', s3o(r.bucket, r.key))],
  's3:AbortMultipartUpload': onObject('s3:AbortMultipartUpload'),
  's3:CopyObject': (r) => copy(r, false),
  's3:UploadPartCopy': (r) => copy(r, true),
  's3:DeleteObject': (r) => [
    ...onObject('s3:DeleteObject', 's3:DeleteObjectVersion')(r),
    ...bypassNeed(r),
  ],
  's3:DeleteObjects': (r) => {
    // Each key of the batch is authorized as its own DeleteObject(Version).
    const body = r.body.toString('utf8');
    return [...body.matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map((m) => {
      const key = /<Key>([\s\S]*?)<\/Key>/.exec(m[1] ?? '')?.[1] ?? '';
      const version = /<VersionId>/.test(m[1] ?? '');
      return same(
        version ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
        s3o(r.bucket, key.replace(/&amp;/g, '&')),
      );
    });
  },
  's3:GetObjectTagging': onObject('s3:GetObjectTagging', 's3:GetObjectVersionTagging'),
  's3:PutObjectTagging': (r) => [
    same(
      r.query.get('versionId') ? 's3:PutObjectVersionTagging' : 's3:PutObjectTagging',
      s3o(r.bucket, r.key),
    ),
  ],
  's3:PutObjectRetention': (r) => [...onObject('s3:PutObjectRetention')(r), ...bypassNeed(r)],
  's3:GetObjectRetention': onObject('s3:GetObjectRetention'),
  // The front layer names these by their subresource (?retention).
  's3:PutRetention': (r) => [...onObject('s3:PutObjectRetention')(r), ...bypassNeed(r)],
  's3:GetRetention': onObject('s3:GetObjectRetention'),
  's3:RestoreObject': onObject('s3:RestoreObject'),
  's3:PostRestoreObject': onObject('s3:RestoreObject'),
  // --- S3 (buckets) --------------------------------------------------------
  's3:ListObjectsV2': listBucket('s3:ListBucket'),
  's3:ListObjects': listBucket('s3:ListBucket'),
  's3:GetBucket': listBucket('s3:ListBucket'),
  's3:HeadBucket': listBucket('s3:ListBucket'),
  's3:ListObjectVersions': listBucket('s3:ListBucketVersions'),
  's3:ListMultipartUploads': listBucket('s3:ListBucketMultipartUploads'),
  's3:ListParts': onObject('s3:ListMultipartUploadParts'),
  's3:CreateBucket': (r) => [
    same('s3:CreateBucket', s3b(r.bucket)),
    ...(r.headers['x-amz-object-ownership'] ? [same('s3:PutBucketOwnershipControls', s3b(r.bucket))] : []),
    ...(r.headers['x-amz-bucket-object-lock-enabled'] === 'true'
      ? [
          same('s3:PutBucketObjectLockConfiguration', s3b(r.bucket)),
          same('s3:PutBucketVersioning', s3b(r.bucket)),
        ]
      : []),
  ],
  's3:PutBucket': (r) => [same('s3:CreateBucket', s3b(r.bucket))],
  's3:DeleteBucket': bucketConf('s3:DeleteBucket'),
  's3:GetBucketEncryption': bucketConf('s3:GetEncryptionConfiguration'),
  's3:PutBucketEncryption': bucketConf('s3:PutEncryptionConfiguration'),
  's3:GetBucketVersioning': bucketConf('s3:GetBucketVersioning'),
  's3:PutBucketVersioning': bucketConf('s3:PutBucketVersioning'),
  's3:GetBucketLifecycleConfiguration': bucketConf('s3:GetLifecycleConfiguration'),
  's3:PutBucketLifecycleConfiguration': bucketConf('s3:PutLifecycleConfiguration'),
  's3:GetObjectLockConfiguration': bucketConf('s3:GetBucketObjectLockConfiguration'),
  // Requests without an x-id are named by their sub-resource (local/fault-proxy.ts).
  's3:GetObjectLock': bucketConf('s3:GetBucketObjectLockConfiguration'),
  's3:PutObjectLock': bucketConf('s3:PutBucketObjectLockConfiguration'),
  's3:GetVersioning': bucketConf('s3:GetBucketVersioning'),
  's3:PutVersioning': bucketConf('s3:PutBucketVersioning'),
  's3:GetLifecycle': bucketConf('s3:GetLifecycleConfiguration'),
  's3:PutLifecycle': bucketConf('s3:PutLifecycleConfiguration'),
  's3:GetPolicy': bucketConf('s3:GetBucketPolicy'),
  's3:PutPolicy': bucketConf('s3:PutBucketPolicy'),
  's3:GetEncryption': bucketConf('s3:GetEncryptionConfiguration'),
  's3:PutEncryption': bucketConf('s3:PutEncryptionConfiguration'),
  's3:GetOwnershipControls': bucketConf('s3:GetBucketOwnershipControls'),
  's3:PutOwnershipControls': bucketConf('s3:PutBucketOwnershipControls'),
  's3:GetLocation': bucketConf('s3:GetBucketLocation'),
  's3:GetListObjectsV2': listBucket('s3:ListBucket'),
  's3:GetListObjectVersions': listBucket('s3:ListBucketVersions'),
  's3:GetCreateMultipartUpload': listBucket('s3:ListBucketMultipartUploads'),
  's3:PostCreateMultipartUpload': putObject,
  's3:DeleteLifecycle': bucketConf('s3:PutLifecycleConfiguration'),
  // An object's tags (of a version: the Version action), else the bucket's.
  's3:DeleteTagging': (r) =>
    r.key
      ? onObject('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging')(r)
      : bucketConf('s3:PutBucketTagging')(r),
  's3:GetTagging': (r) =>
    r.key
      ? onObject('s3:GetObjectTagging', 's3:GetObjectVersionTagging')(r)
      : bucketConf('s3:GetBucketTagging')(r),
  's3:PutTagging': (r) =>
    r.key
      ? onObject('s3:PutObjectTagging', 's3:PutObjectVersionTagging')(r)
      : bucketConf('s3:PutBucketTagging')(r),
  's3:PutObjectLockConfiguration': bucketConf('s3:PutBucketObjectLockConfiguration'),
  's3:GetBucketPolicy': bucketConf('s3:GetBucketPolicy'),
  's3:PutBucketPolicy': bucketConf('s3:PutBucketPolicy'),
  's3:GetPublicAccessBlock': bucketConf('s3:GetBucketPublicAccessBlock'),
  's3:PutPublicAccessBlock': bucketConf('s3:PutBucketPublicAccessBlock'),
  's3:PutBucketOwnershipControls': bucketConf('s3:PutBucketOwnershipControls'),
  's3:GetBucketOwnershipControls': bucketConf('s3:GetBucketOwnershipControls'),
  's3:PutBucketTagging': bucketConf('s3:PutBucketTagging'),
  's3:GetBucketTagging': bucketConf('s3:GetBucketTagging'),
  's3:GetBucketLocation': bucketConf('s3:GetBucketLocation'),
  's3:ListBuckets': () => [same('s3:ListAllMyBuckets')],
  // --- RDS -----------------------------------------------------------------
  'rds:DescribeDBInstances': any,
  'rds:DescribeDBClusters': any,
  'rds:DescribeDBSnapshots': any,
  'rds:DescribeDBClusterSnapshots': any,
  'rds:DescribeDBSubnetGroups': any,
  'rds:DescribeAccountAttributes': any,
  'rds:DescribeDBInstanceAutomatedBackups': any,
  'rds:DescribeDBSnapshotAttributes': (r, c) => [same(r.operation, snap(c, f(r, 'DBSnapshotIdentifier')))],
  'rds:DescribeDBClusterSnapshotAttributes': (r, c) => [
    same(r.operation, snap(c, f(r, 'DBClusterSnapshotIdentifier'), true)),
  ],
  'rds:ListTagsForResource': (r) => [same(r.operation, f(r, 'ResourceName'))],
  'rds:AddTagsToResource': (r) => [
    {
      action: r.operation,
      resource: f(r, 'ResourceName'),
      tags: true,
      context: tagContext(formTags(r.form)),
    },
  ],
  // The database's tags are aws:ResourceTag/* on its db resource (a source
  // account's kura-source role may snapshot only tagged databases).
  'rds:CreateDBSnapshot': (r, c) => [
    rdsTagged(r.operation, rds(c, 'db', f(r, 'DBInstanceIdentifier'))),
    same(r.operation, snap(c, f(r, 'DBSnapshotIdentifier'))),
    ...rdsTagsOnCreate(r, snap(c, f(r, 'DBSnapshotIdentifier'))),
  ],
  'rds:CreateDBClusterSnapshot': (r, c) => [
    rdsTagged(r.operation, rds(c, 'cluster', f(r, 'DBClusterIdentifier'))),
    same(r.operation, snap(c, f(r, 'DBClusterSnapshotIdentifier'), true)),
    ...rdsTagsOnCreate(r, snap(c, f(r, 'DBClusterSnapshotIdentifier'), true)),
  ],
  'rds:CopyDBSnapshot': (r, c) => copySnapshot(r, c, false),
  'rds:CopyDBClusterSnapshot': (r, c) => copySnapshot(r, c, true),
  'rds:DeleteDBSnapshot': (r, c) => [rdsTagged(r.operation, snap(c, f(r, 'DBSnapshotIdentifier')))],
  'rds:DeleteDBClusterSnapshot': (r, c) => [
    rdsTagged(r.operation, snap(c, f(r, 'DBClusterSnapshotIdentifier'), true)),
  ],
  'rds:ModifyDBSnapshotAttribute': (r, c) => [rdsTagged(r.operation, snap(c, f(r, 'DBSnapshotIdentifier')))],
  'rds:ModifyDBClusterSnapshotAttribute': (r, c) => [
    rdsTagged(r.operation, snap(c, f(r, 'DBClusterSnapshotIdentifier'), true)),
  ],
  'rds:CreateDBInstance': (r, c) => [
    same(r.operation, rds(c, 'db', f(r, 'DBInstanceIdentifier'))),
    ...(f(r, 'DBSubnetGroupName') ? [same(r.operation, rds(c, 'subgrp', f(r, 'DBSubnetGroupName')))] : []),
    ...rdsTagsOnCreate(r, rds(c, 'db', f(r, 'DBInstanceIdentifier'))),
  ],
  'rds:CreateDBCluster': (r, c) => [
    same(r.operation, rds(c, 'cluster', f(r, 'DBClusterIdentifier'))),
    ...(f(r, 'DBSubnetGroupName') ? [same(r.operation, rds(c, 'subgrp', f(r, 'DBSubnetGroupName')))] : []),
    ...rdsTagsOnCreate(r, rds(c, 'cluster', f(r, 'DBClusterIdentifier'))),
  ],
  'rds:RestoreDBInstanceFromDBSnapshot': (r, c) => [
    same(r.operation, rds(c, 'db', f(r, 'DBInstanceIdentifier'))),
    same(r.operation, snap(c, f(r, 'DBSnapshotIdentifier'))),
    same(r.operation, rds(c, 'subgrp', f(r, 'DBSubnetGroupName') || 'default')),
    ...rdsTagsOnCreate(r, rds(c, 'db', f(r, 'DBInstanceIdentifier'))),
  ],
  'rds:RestoreDBClusterFromSnapshot': (r, c) => [
    same(r.operation, rds(c, 'cluster', f(r, 'DBClusterIdentifier'))),
    same(r.operation, snap(c, f(r, 'SnapshotIdentifier'), true)),
    same(r.operation, rds(c, 'subgrp', f(r, 'DBSubnetGroupName') || 'default')),
    ...rdsTagsOnCreate(r, rds(c, 'cluster', f(r, 'DBClusterIdentifier'))),
  ],
  'rds:RestoreDBInstanceToPointInTime': (r, c) => [
    same(r.operation, rds(c, 'db', f(r, 'SourceDBInstanceIdentifier'))),
    same(r.operation, rds(c, 'db', f(r, 'TargetDBInstanceIdentifier'))),
    ...(f(r, 'DBSubnetGroupName') ? [same(r.operation, rds(c, 'subgrp', f(r, 'DBSubnetGroupName')))] : []),
    ...rdsTagsOnCreate(r, rds(c, 'db', f(r, 'TargetDBInstanceIdentifier'))),
  ],
  'rds:DeleteDBInstance': (r, c) => [rdsTagged(r.operation, rds(c, 'db', f(r, 'DBInstanceIdentifier')))],
  'rds:DeleteDBCluster': (r, c) => [rdsTagged(r.operation, rds(c, 'cluster', f(r, 'DBClusterIdentifier')))],
  'rds:ModifyDBInstance': (r, c) => [
    rdsTagged(r.operation, rds(c, 'db', f(r, 'DBInstanceIdentifier'))),
    ...managedMasterSecret(r, c, 'db'),
  ],
  'rds:ModifyDBCluster': (r, c) => [
    rdsTagged(r.operation, rds(c, 'cluster', f(r, 'DBClusterIdentifier'))),
    ...managedMasterSecret(r, c, 'cluster'),
  ],
  'rds:CreateDBSubnetGroup': (r, c) => [same(r.operation, rds(c, 'subgrp', f(r, 'DBSubnetGroupName')))],
  // --- EC2 -----------------------------------------------------------------
  'ec2:DescribeInstances': any,
  'ec2:DescribeInstanceAttribute': any,
  'ec2:DescribeInstanceStatus': any,
  'ec2:DescribeInstanceTypes': any,
  'ec2:DescribeImages': any,
  'ec2:DescribeImageAttribute': any,
  'ec2:DescribeSnapshots': any,
  'ec2:DescribeSnapshotAttribute': any,
  'ec2:DescribeVolumes': any,
  'ec2:DescribeLaunchTemplates': any,
  'ec2:DescribeLaunchTemplateVersions': any,
  'ec2:DescribeVpcs': any,
  'ec2:DescribeSubnets': any,
  'ec2:DescribeRouteTables': any,
  'ec2:DescribeInternetGateways': any,
  'ec2:DescribeNatGateways': any,
  'ec2:DescribeSecurityGroups': any,
  'ec2:DescribeAvailabilityZones': any,
  'ec2:DescribeRegions': any,
  'ec2:DescribeVpcEndpoints': any,
  'ec2:DescribeVpcAttribute': any,
  'ec2:DescribeTags': any,
  // The instance's tags are aws:ResourceTag/* (kura-source images only tagged instances).
  'ec2:CreateImage': (r, c) => [
    { ...same(r.operation, ec2(c, 'instance', f(r, 'InstanceId'))), tags: true },
    same(r.operation, ec2(c, 'image', '*')),
    same(r.operation, ec2(c, 'snapshot', '*')),
    ...ec2TagsOnCreate(r, c, 'CreateImage', {}),
  ],
  'ec2:CopyImage': (r, c) => [
    same(
      r.operation,
      ec2({ ...c, region: f(r, 'SourceRegion') || c.region }, 'image', f(r, 'SourceImageId')),
    ),
    same(r.operation, ec2(c, 'image', '*')),
    ...ec2TagsOnCreate(r, c, 'CopyImage', {}),
    ...(f(r, 'KmsKeyId') ? [kmsOn('kms:CreateGrant', f(r, 'KmsKeyId'), viaEc2(r))] : []),
    // EC2 reads the source snapshots with their keys on the caller's behalf: a key of another
    // account (an image it shared) must admit the caller in its key policy (EC2 User Guide,
    // "Copy an AMI": cross-account copying of encrypted AMIs).
    ...['kms:DescribeKey', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:CreateGrant'].map((action) => ({
      action,
      resource: '*',
      kmsOfImage: ec2({ ...c, region: f(r, 'SourceRegion') || c.region }, 'image', f(r, 'SourceImageId')),
      context: viaEc2(r),
    })),
  ],
  'ec2:CreateTags': (r, c) => {
    const tags = formTags(r.form, 'Tag');
    return formList(r.form, 'ResourceId').map((x) => {
      const id = x.value ?? '';
      const type = id.startsWith('ami-')
        ? 'image'
        : id.startsWith('snap-')
          ? 'snapshot'
          : id.startsWith('i-')
            ? 'instance'
            : id.startsWith('vol-')
              ? 'volume'
              : id.startsWith('vpc-')
                ? 'vpc'
                : id.startsWith('subnet-')
                  ? 'subnet'
                  : id.startsWith('sg-')
                    ? 'security-group'
                    : 'resource';
      return { action: 'ec2:CreateTags', resource: ec2(c, type, id), tags: true, context: tagContext(tags) };
    });
  },
  'ec2:ModifyImageAttribute': (r, c) => [
    { action: r.operation, resource: ec2(c, 'image', f(r, 'ImageId')), tags: true },
  ],
  'ec2:ModifySnapshotAttribute': (r, c) => [
    { action: r.operation, resource: ec2(c, 'snapshot', f(r, 'SnapshotId')), tags: true },
  ],
  'ec2:DeregisterImage': (r, c) => [
    { action: r.operation, resource: ec2(c, 'image', f(r, 'ImageId')), tags: true },
  ],
  'ec2:DeleteVolume': (r, c) => [
    { action: r.operation, resource: ec2(c, 'volume', f(r, 'VolumeId')), tags: true },
  ],
  'ec2:DeleteSnapshot': (r, c) => [
    { action: r.operation, resource: ec2(c, 'snapshot', f(r, 'SnapshotId')), tags: true },
  ],
  'ec2:RunInstances': (r, c) => {
    const tags = ec2TagSpecifications(r.form);
    const instanceTags = tags.instance ?? {};
    const out: Need[] = [
      { action: r.operation, resource: ec2(c, 'instance', '*'), context: tagContext(instanceTags) },
      { action: r.operation, resource: ec2(c, 'image', f(r, 'ImageId')), imageOwner: f(r, 'ImageId') },
      { action: r.operation, resource: ec2(c, 'volume', '*') },
      { action: r.operation, resource: ec2(c, 'network-interface', '*') },
    ];
    if (f(r, 'SubnetId')) out.push(same(r.operation, ec2(c, 'subnet', f(r, 'SubnetId'))));
    for (const g of formList(r.form, 'SecurityGroupId'))
      out.push(same(r.operation, ec2(c, 'security-group', g.value ?? '')));
    for (const b of formList(r.form, 'BlockDeviceMapping')) out.push(...launchVolume(r, c, b));
    out.push(...passProfile(r));
    return [...out, ...ec2TagsOnCreate(r, c, 'RunInstances', {})];
  },
  'ec2:DescribeIamInstanceProfileAssociations': any,
  'ec2:AssociateIamInstanceProfile': (r, c) => [
    { action: r.operation, resource: ec2(c, 'instance', f(r, 'InstanceId')), tags: true },
    ...passProfile(r),
  ],
  'ec2:TerminateInstances': (r, c) =>
    formList(r.form, 'InstanceId').map((x) => ({
      action: r.operation,
      resource: ec2(c, 'instance', x.value ?? ''),
      tags: true,
    })),
  'ec2:ModifyInstanceAttribute': (r, c) => [
    { action: r.operation, resource: ec2(c, 'instance', f(r, 'InstanceId')), tags: true },
  ],
  'ec2:CreateVpc': (r, c) => [same(r.operation, ec2(c, 'vpc', '*'))],
  'ec2:CreateSubnet': (r, c) => [same(r.operation, ec2(c, 'subnet', '*'))],
  'ec2:CreateSecurityGroup': (r, c) => [same(r.operation, ec2(c, 'security-group', '*'))],
  'ec2:CreateInternetGateway': (r, c) => [same(r.operation, ec2(c, 'internet-gateway', '*'))],
  'ec2:AttachInternetGateway': (r, c) => [
    same(r.operation, ec2(c, 'internet-gateway', f(r, 'InternetGatewayId'))),
  ],
  'ec2:AuthorizeSecurityGroupIngress': (r, c) => [
    same(r.operation, ec2(c, 'security-group', f(r, 'GroupId'))),
  ],
  'ec2:AuthorizeSecurityGroupEgress': (r, c) => [
    same(r.operation, ec2(c, 'security-group', f(r, 'GroupId'))),
  ],
  'ec2:RevokeSecurityGroupEgress': (r, c) => [same(r.operation, ec2(c, 'security-group', f(r, 'GroupId')))],
  'ec2:CreateLaunchTemplate': (r, c) => [same(r.operation, ec2(c, 'launch-template', '*'))],
  'ec2:CreateVpcEndpoint': (r, c) => [same(r.operation, ec2(c, 'vpc-endpoint', '*'))],
  'ec2:CreateRoute': (r, c) => [same(r.operation, ec2(c, 'route-table', f(r, 'RouteTableId')))],
  'ec2:ModifyVpcAttribute': (r, c) => [same(r.operation, ec2(c, 'vpc', f(r, 'VpcId')))],
  // --- KMS (the key named by KeyId) ----------------------------------------
  'kms:DescribeKey': (r) => [kmsOn('kms:DescribeKey', j(r, 'KeyId'))],
  'kms:GetKeyPolicy': (r) => [kmsOn('kms:GetKeyPolicy', j(r, 'KeyId'))],
  'kms:GetKeyRotationStatus': (r) => [kmsOn('kms:GetKeyRotationStatus', j(r, 'KeyId'))],
  'kms:CreateGrant': (r) => [kmsOn('kms:CreateGrant', j(r, 'KeyId'))],
  'kms:Decrypt': (r) => [kmsOn('kms:Decrypt', j(r, 'KeyId'))],
  'kms:ListKeys': () => [same('kms:ListKeys')],
  'kms:ListAliases': () => [same('kms:ListAliases')],
  'kms:CreateKey': () => [same('kms:CreateKey')],
  'kms:CreateAlias': (r, c) => [
    same('kms:CreateAlias', `arn:aws:kms:${c.region}:${c.account}:${j(r, 'AliasName')}`),
    kmsOn('kms:CreateAlias', j(r, 'TargetKeyId')),
  ],
  'kms:ScheduleKeyDeletion': (r) => [kmsOn('kms:ScheduleKeyDeletion', j(r, 'KeyId'))],
  'kms:DisableKey': (r) => [kmsOn('kms:DisableKey', j(r, 'KeyId'))],
  'kms:PutKeyPolicy': (r) => [kmsOn('kms:PutKeyPolicy', j(r, 'KeyId'))],
  // --- STS -----------------------------------------------------------------
  'sts:GetCallerIdentity': () => [same('sts:GetCallerIdentity')],
  'sts:AssumeRole': (r): Need[] => [
    {
      action: 'sts:AssumeRole',
      resource: f(r, 'RoleArn'),
      account: accountOfArn(f(r, 'RoleArn')),
      context: f(r, 'ExternalId') ? { 'sts:ExternalId': f(r, 'ExternalId') } : {},
    },
  ],
  // --- Service Quotas, SNS, SFN, CloudWatch, IAM, CloudFormation, SQS,
  // Scheduler, Lambda: the operator's and the deploy test's reads, and the
  // few writes a role makes (sns:Publish, states:StartExecution).
  'servicequotas:GetServiceQuota': any,
  'sns:Publish': (r) => [same('sns:Publish', f(r, 'TopicArn'))],
  'sns:CreateTopic': (r, c) => [
    same('sns:CreateTopic', `arn:aws:sns:${c.region}:${c.account}:${f(r, 'Name')}`),
  ],
  'sns:GetTopicAttributes': (r) => [same(r.operation, f(r, 'TopicArn'))],
  'sns:SetTopicAttributes': (r) => [same(r.operation, f(r, 'TopicArn'))],
  'states:StartExecution': (r) => [same(r.operation, j(r, 'stateMachineArn'))],
  'states:DescribeExecution': (r) => [same(r.operation, j(r, 'executionArn'))],
  'states:GetExecutionHistory': (r) => [same(r.operation, j(r, 'executionArn'))],
  'states:DescribeStateMachine': (r) => [same(r.operation, j(r, 'stateMachineArn'))],
  'states:ListStateMachines': any,
  'states:SendTaskSuccess': any,
  'states:SendTaskFailure': any,
  'monitoring:DescribeAlarms': () => [same('cloudwatch:DescribeAlarms')],
  'monitoring:PutMetricAlarm': () => [same('cloudwatch:PutMetricAlarm')],
  'monitoring:PutMetricData': () => [same('cloudwatch:PutMetricData')],
  'logs:DescribeLogGroups': any,
  'iam:GetRole': (r, c) => [same(r.operation, `arn:aws:iam::${c.account}:role/${f(r, 'RoleName')}`)],
  'iam:GetRolePolicy': (r, c) => [same(r.operation, `arn:aws:iam::${c.account}:role/${f(r, 'RoleName')}`)],
  'iam:ListRolePolicies': (r, c) => [same(r.operation, `arn:aws:iam::${c.account}:role/${f(r, 'RoleName')}`)],
  'iam:ListAttachedRolePolicies': (r, c) => [
    same(r.operation, `arn:aws:iam::${c.account}:role/${f(r, 'RoleName')}`),
  ],
  'cloudformation:CreateStack': any,
  'cloudformation:DescribeStacks': any,
  'cloudformation:DescribeStackResources': any,
  'sqs:GetQueueUrl': any,
  'sqs:GetQueueAttributes': any,
  'sqs:SetQueueAttributes': any,
  'events:TestEventPattern': any,
  'scheduler:CreateSchedule': any,
  'scheduler:GetSchedule': any,
  'scheduler:ListSchedules': any,
  'lambda:GetFunction': any,
  'lambda:GetFunctionConfiguration': any,
  'lambda:ListFunctions': any,
  'lambda:GetFunctionEventInvokeConfig': any,
  'lambda:PutFunctionEventInvokeConfig': any,
  // The validation's probe runner in the isolated account, invoked through kura-restore.
  'lambda:Invoke': (r, c) => [same('lambda:InvokeFunction', lambdaFunction(r, c))],
  // The probe runner reads a restored copy's RDS-managed secret (tags: aws:rds:primaryDB…Arn).
  'secretsmanager:GetSecretValue': (r, c) => [
    { action: r.operation, resource: secretArn(c, j(r, 'SecretId')), tags: true },
  ],
  'secretsmanager:ListSecrets': any,
  'secretsmanager:DescribeSecret': (r, c) => [
    { action: r.operation, resource: secretArn(c, j(r, 'SecretId')), tags: true },
  ],
};

/** The function a Lambda REST path names (name, partial or full ARN), as its ARN. */
function lambdaFunction(r: AwsRequest, c: Ctx): string {
  const ref = decodeURIComponent(r.path.split('/')[3] ?? '');
  return ref.startsWith('arn:')
    ? ref.replace(/:\$LATEST$/, '')
    : `arn:aws:lambda:${c.region}:${c.account}:function:${ref}`;
}

const secretArn = (c: Ctx, id: string) =>
  id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${c.region}:${c.account}:secret:${id}`;

/**
 * ManageMasterUserPassword: RDS creates the secret `rds!<db|cluster>-…` in the
 * caller's account with the caller's permissions (RDS user guide, "Password
 * management with Secrets Manager": secretsmanager:CreateSecret and TagResource).
 */
function managedMasterSecret(r: AwsRequest, c: Ctx, kind: 'db' | 'cluster'): Need[] {
  if (f(r, 'ManageMasterUserPassword') !== 'true') return [];
  const arn = `arn:aws:secretsmanager:${c.region}:${c.account}:secret:rds!${kind}-*`;
  return [same('secretsmanager:CreateSecret', arn), same('secretsmanager:TagResource', arn)];
}

export class UnmappedCommandError extends Error {
  override name = 'UnmappedCommandError';
}

/** The authorizations a request needs; an unmapped command is an error that names it. */
export function needsOf(r: AwsRequest, c: Ctx): Need[] {
  const mapper = COMMANDS[r.operation];
  if (!mapper)
    throw new UnmappedCommandError(
      `kura iam: no IAM mapping for ${r.operation} (${r.method} ${r.path}); add its line to local/iam/actions.ts (Service Authorization Reference)`,
    );
  return mapper(r, c);
}
