/**
 * The tenant data role's policy as template.yaml declares it, resolved for a local table: `!GetAtt
 * Table.Arn` and `${Table.Arn}` become the local ARN, `${!x}` becomes the IAM variable `${x}`. The
 * local stack enforces the real template, not a copy of it.
 */
import type { Template } from '../../template.js';
import type { IamPolicyDocument, IamStatement } from './iam.js';

function resolve(value: unknown, tableArn: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, tableArn));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('Fn::GetAtt' in o) {
      const target = Array.isArray(o['Fn::GetAtt'])
        ? o['Fn::GetAtt'].join('.')
        : String(o['Fn::GetAtt']);
      if (target === 'Table.Arn') return tableArn;
      throw new Error(`cannot resolve GetAtt ${target} locally`);
    }
    if ('Fn::Sub' in o) {
      return String(o['Fn::Sub'])
        .replace(/\$\{Table\.Arn\}/g, tableArn)
        .replace(/\$\{!([^}]+)\}/g, (_m, name: string) => `\${${name}}`);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, tableArn)]));
  }
  return value;
}

export function tenantRolePolicy(
  template: Template,
  tableArn: string,
  roleLogicalId = 'TenantDataRole',
): IamPolicyDocument {
  const role = template.Resources[roleLogicalId]?.Properties as
    | { Policies?: { PolicyDocument: { Statement: unknown[] } }[] }
    | undefined;
  if (!role?.Policies) throw new Error(`${roleLogicalId} has no policies in the template`);
  const Statement = role.Policies.flatMap((p) =>
    p.PolicyDocument.Statement.map((s) => resolve(s, tableArn) as IamStatement),
  );
  return { Version: '2012-10-17', Statement };
}
