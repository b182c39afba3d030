// Test support (deploy): CloudFormation templates as data. Reads the YAML
// short forms (!Ref, !Sub, …) and resolves intrinsic functions
// (local/iam/cfn.ts, shared with the IAM front layer) against a stack that
// the emulator's CloudFormation created, so that the created resources can be
// looked up by the template's logical ids.
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CfnResolver, type CfnTemplate, type Props, type StackContext } from '../../local/iam/cfn.ts';
import type { Clients } from '../../shared/aws/clients.ts';

export type { CfnTemplate, Props, StackContext } from '../../local/iam/cfn.ts';
export { parseCfnYaml } from '../../local/iam/cfn.ts';

/**
 * The template in the form moto 5.2's CloudFormation reads, same meaning:
 * - Fn::Sub variable names that start with a digit (serverless-step-functions
 *   names them by hash) are renamed: moto substitutes with Python's
 *   string.Template, which skips such names and then fails on them;
 * - AWS::KMS::Key Tags are given as TagKey/TagValue (moto reads the KMS API's
 *   shape there, and fails on CloudFormation's Key/Value), and its KeyPolicy
 *   as a JSON string (CloudFormation takes either; moto stores an object as
 *   is and then fails to parse it on every DescribeKey).
 */
export function forMoto(template: CfnTemplate): CfnTemplate {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Props;
    const sub = o['Fn::Sub'];
    if (Object.keys(o).length === 1 && Array.isArray(sub)) {
      let text = sub[0] as string;
      const vars: Props = {};
      for (const [k, val] of Object.entries(sub[1] as Props)) {
        const name = /^[A-Za-z_]\w*$/.test(k) ? k : `v${k}`;
        text = text.replaceAll(`\${${k}}`, `\${${name}}`);
        vars[name] = walk(val);
      }
      return { 'Fn::Sub': [text, vars] };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
  };
  const out = walk(template) as CfnTemplate;
  for (const r of Object.values(out.Resources))
    if (r.Type === 'AWS::KMS::Key' && r.Properties) {
      r.Properties.Tags = ((r.Properties.Tags ?? []) as { Key: string; Value: string }[]).map((t) => ({
        TagKey: t.Key,
        TagValue: t.Value,
      }));
      r.Properties.KeyPolicy = { 'Fn::ToJsonString': r.Properties.KeyPolicy };
    }
  return out;
}

/** Ref and Fn::GetAtt of the template's resources, as the created stack answers them. */
export class StackResolver extends CfnResolver {
  private constructor(
    ctx: StackContext,
    template: CfnTemplate,
    readonly physical: Map<string, string>,
  ) {
    super(ctx, template, (logical) => physical.get(logical));
  }

  static async of(clients: Clients, template: CfnTemplate, ctx: StackContext): Promise<StackResolver> {
    const r = await clients
      .get(CloudFormationClient, ctx.region)
      .send(new DescribeStackResourcesCommand({ StackName: ctx.stackName }));
    const physical = new Map(
      (r.StackResources ?? []).map((x) => [x.LogicalResourceId ?? '', x.PhysicalResourceId ?? '']),
    );
    return new StackResolver(ctx, template, physical);
  }
}
