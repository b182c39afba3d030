// Local runtime (IAM front layer): decides one authorization (a principal, an
// IAM action, a resource and the request's condition keys) against the
// deployed policies with @cloud-copilot/iam-simulate: the principal's identity
// policies, the resource's policy (bucket, key, trust, topic, queue), with
// AWS's rules for explicit denies and cross-account access. Test-time only
// (AGPL-3.0): never imported by functions/ or shared/, never bundled.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from './deployment.ts';

export interface Authorization {
  /** IAM action, e.g. `s3:GetObject`. */
  action: string;
  /** Resource ARN (placeholders for keys: arn:aws:kms:…:key/VaultKey). */
  resource: string;
  /** The account that owns the resource. */
  resourceAccount: string;
  /** Condition keys the request carries. */
  context?: Record<string, string | string[]>;
}

export interface Principal {
  /** The ARN AWS sees as `aws:PrincipalArn`: a role ARN, or a service principal name. */
  arn: string;
  account: string;
  /** The session ARN of an assumed role (what the request is signed as). */
  sessionArn?: string;
  /** Display name: the role's logical id or the operator role. */
  label: string;
  policies: { name: string; policy: PolicyDocument }[];
  service?: boolean;
}

export interface ResourcePolicy {
  /** Display name, e.g. VaultBucketPolicy. */
  name: string;
  policy: PolicyDocument;
}

export interface Decision {
  allowed: boolean;
  /** The statements that decided: `policy#Sid` (or `policy#<n>` without a Sid). */
  deciding: string[];
  /** A sentence: which statement allowed or denied it, or that none allowed it. */
  reason: string;
}

type Stmt = { policyId?: string; statement?: { _index?: number }; explain?: { identifier?: string } };

function names(list: Stmt[] | undefined, fallback: string): string[] {
  return (list ?? []).map(
    (s) => `${s.policyId ?? fallback}#${s.explain?.identifier ?? s.statement?._index ?? '?'}`,
  );
}

// The same question gets the same answer: the suite asks the same
// (principal, action, resource, context) many times over.
const decisions = new Map<string, Promise<Decision>>();
const MAX_CACHED = 50_000;

export function evaluate(
  principal: Principal,
  auth: Authorization,
  resourcePolicy?: ResourcePolicy,
): Promise<Decision> {
  const key = JSON.stringify([principal.arn, principal.policies, auth, resourcePolicy ?? null]);
  let d = decisions.get(key);
  if (!d) {
    if (decisions.size >= MAX_CACHED) decisions.clear();
    d = simulate(principal, auth, resourcePolicy);
    decisions.set(key, d);
  }
  return d;
}

async function simulate(
  principal: Principal,
  auth: Authorization,
  resourcePolicy?: ResourcePolicy,
): Promise<Decision> {
  const context: Record<string, string | string[]> = {
    'aws:SecureTransport': 'true',
    'aws:PrincipalIsAWSService': principal.service ? 'true' : 'false',
    ...(principal.service
      ? {}
      : { 'aws:PrincipalArn': principal.arn, 'aws:PrincipalAccount': principal.account }),
    ...auth.context,
  };
  const result = await runSimulation(
    {
      request: {
        principal: principal.sessionArn ?? principal.arn,
        action: auth.action,
        resource: { resource: auth.resource, accountId: auth.resourceAccount },
        contextVariables: context,
      },
      identityPolicies: principal.policies.map((p) => ({ name: p.name, policy: p.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy: resourcePolicy.policy } : {}),
    },
    { simulationMode: 'Strict' },
  );
  if (result.resultType === 'error')
    throw new Error(
      `kura iam: cannot evaluate ${auth.action} on ${auth.resource} for ${principal.label}: ${result.errors.message} ${JSON.stringify(result.errors).slice(0, 600)}`,
    );
  const analyses = result.resultType === 'single' ? [result.result] : result.results;
  const allowed = result.overallResult === 'Allowed';
  const deciding = new Set<string>();
  for (const r of analyses) {
    const a = r.analysis as unknown as {
      identityAnalysis?: { allowStatements?: Stmt[]; denyStatements?: Stmt[] };
      resourceAnalysis?: { allowStatements?: Stmt[]; denyStatements?: Stmt[] };
    };
    const rp = resourcePolicy?.name ?? 'resource policy';
    const denies = [
      ...names(a.identityAnalysis?.denyStatements, principal.label),
      ...names(a.resourceAnalysis?.denyStatements, rp),
    ];
    const allows = [
      ...names(a.identityAnalysis?.allowStatements, principal.label),
      ...names(a.resourceAnalysis?.allowStatements, rp),
    ];
    for (const d of allowed ? allows : denies) deciding.add(d);
  }
  const list = [...deciding];
  const reason = allowed
    ? `allowed by ${list.join(' and ')}`
    : list.length
      ? `denied explicitly by ${list.join(' and ')}`
      : `no statement allowed it (${result.overallResult}${resourcePolicy ? `; resource policy ${resourcePolicy.name} considered` : ''})`;
  return { allowed, deciding: list, reason };
}
