/**
 * The tenant data role's policy as template.yaml declares it, resolved the way CloudFormation would
 * for a local table: `!GetAtt Table.Arn` and `${Table.Arn}` become the local table ARN,
 * `${AWS::Region}` / `${AWS::AccountId}` / `${AWS::Partition}` come from that ARN, and `${!x}` becomes
 * the IAM policy variable `${x}`. The local stack enforces the real template, never a copy of it.
 */
import type { Template } from '../../template.js';
import { IsolationConfigError } from './errors.js';
import type { IamPolicyDocument, IamStatement } from './iam.js';

interface PolicyDocument {
  readonly Version?: string;
  readonly Statement?: unknown;
}

/**
 * The role's inline policies merged into one document (they share IAM's evaluation: any Deny wins,
 * any Allow grants). Throws `IsolationConfigError` listing everything that cannot be resolved.
 */
export function tenantRolePolicy(
  template: Template,
  tableArn: string,
  roleLogicalId = 'TenantDataRole',
): IamPolicyDocument {
  const issues: string[] = [];
  const [, partition = '', , region = '', accountId = ''] = tableArn.split(':');
  const pseudo: Record<string, string> = {
    'Table.Arn': tableArn,
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::Partition': partition,
  };
  const resolve = (value: unknown, at: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${at}[${i}]`));
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    if ('Fn::GetAtt' in o) {
      const ref = [o['Fn::GetAtt']].flat().join('.');
      if (ref === 'Table.Arn') return tableArn;
      issues.push(`${at}: cannot resolve !GetAtt ${ref} locally`);
      return undefined;
    }
    if ('Fn::Sub' in o) {
      const text = [o['Fn::Sub']].flat()[0];
      if (typeof text !== 'string') {
        issues.push(`${at}: !Sub needs a string`);
        return undefined;
      }
      return text.replace(/\$\{(!?)([^}]*)\}/g, (whole, bang: string, name: string) => {
        if (bang) return `\${${name}}`; // ${!x}: CloudFormation's escape for a literal ${x}
        const resolved = pseudo[name];
        if (resolved === undefined) issues.push(`${at}: cannot resolve \${${name}} locally`);
        return resolved ?? whole;
      });
    }
    if ('Ref' in o) {
      issues.push(`${at}: cannot resolve !Ref ${String(o.Ref)} locally`);
      return undefined;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, `${at}.${k}`)]));
  };

  const resource = template.Resources[roleLogicalId];
  const policies = (resource?.Properties?.Policies ?? []) as { PolicyDocument?: PolicyDocument }[];
  if (resource?.Type !== 'AWS::IAM::Role') issues.push(`${roleLogicalId} is not an AWS::IAM::Role`);
  else if (policies.length === 0) issues.push(`${roleLogicalId} has no inline Policies`);
  const versions = new Set(policies.map((p) => p.PolicyDocument?.Version));
  if (versions.size > 1) issues.push(`${roleLogicalId}'s policies mix Versions`);
  const Statement = policies.flatMap((p, i) =>
    [p.PolicyDocument?.Statement ?? []]
      .flat()
      .map((s, j) => resolve(s, `Policies[${i}].Statement[${j}]`) as IamStatement),
  );
  if (issues.length > 0) throw new IsolationConfigError(issues);
  const [Version] = versions;
  return { ...(Version === undefined ? {} : { Version }), Statement };
}
