// Test support: which AWS calls a run makes, what a role grants, and a role
// that lacks one grant. SDK middleware given to emulatorClients(); production
// code is unaware of it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientMiddleware } from '../../shared/aws/clients.ts';
import { parseCfnYaml } from '../deploy/cfn.ts';
import { ROOT } from './packaged-template.ts';

/** SDK commands whose IAM action has another name (Service Authorization Reference, Amazon S3). */
const IAM_ACTION: Record<string, string> = {
  's3:HeadBucket': 's3:ListBucket',
  's3:ListObjectsV2': 's3:ListBucket',
  's3:ListObjectVersions': 's3:ListBucketVersions',
  's3:HeadObject': 's3:GetObject',
  's3:CreateMultipartUpload': 's3:PutObject',
  's3:UploadPart': 's3:PutObject',
  's3:CompleteMultipartUpload': 's3:PutObject',
};

/** Records every call as `<service>:<Action>` (e.g. `rds:CopyDBSnapshot`), as IAM names it. */
export function recordCalls(): { middleware: ClientMiddleware; called: Set<string> } {
  const called = new Set<string>();
  return {
    called,
    middleware: {
      name: 'recordCalls',
      middleware: (next, context) => async (args) => {
        const service = String(context.clientName ?? '')
          .replace(/Client$/, '')
          .toLowerCase();
        const call = `${service}:${String(context.commandName).replace(/Command$/, '')}`;
        called.add(IAM_ACTION[call] ?? call);
        return next(args);
      },
    },
  };
}

/** Answers one SDK command (`DescribeAccountAttributes`) with AccessDenied (HTTP 403), as a role without it would. */
export function refuse(command: string): ClientMiddleware {
  return {
    name: `refuse${command}`,
    middleware: (next, context) => async (args) => {
      if (context.commandName === `${command}Command`)
        throw Object.assign(new Error(`User is not authorized to perform: ${command}`), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
      return next(args);
    },
  };
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: unknown;
}

/**
 * The Allow statements a role gets in a CloudFormation file (deploy/iam/*.yml,
 * deploy/isolated-account.yml): its inline policies and the AWS::IAM::Policy
 * resources attached to it.
 */
export function roleStatements(file: string, role: string): Statement[] {
  const doc = parseCfnYaml(readFileSync(join(ROOT, file), 'utf8'));
  type Document = { Statement: Statement[] };
  const inline = (doc.Resources[role]?.Properties?.Policies ?? []) as { PolicyDocument: Document }[];
  const attached = Object.values(doc.Resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        ((r.Properties?.Roles ?? []) as unknown[]).some(
          (x) => JSON.stringify(x) === JSON.stringify({ Ref: role }),
        ),
    )
    .map((r) => r.Properties?.PolicyDocument as Document);
  return [...inline.map((p) => p.PolicyDocument), ...attached]
    .flatMap((d) => d.Statement)
    .filter((st) => st.Effect === 'Allow');
}

/** Every action a role's Allow statements name. */
export function roleActions(file: string, role: string): Set<string> {
  return new Set(roleStatements(file, role).flatMap((s) => [s.Action].flat()));
}
