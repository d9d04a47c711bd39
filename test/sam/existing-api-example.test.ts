/**
 * examples/existing-api/template.yaml: an API in another stack using the deployed authorizer. Checked as
 * template.yaml is (references resolve, cfn-lint but for its spec's gaps), and against template.yaml's
 * exports: every imported name is one the tenantgate stack exports, and every authorizer can be invoked.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTemplate, ROOT } from '../../sam/template.js';
import { references } from '../fixtures/template.js';

const require = createRequire(import.meta.url);
const EXAMPLE_PATH = join(ROOT, 'examples', 'existing-api', 'template.yaml');
const example = loadTemplate(EXAMPLE_PATH);
const tenantgate = loadTemplate();
const resources = example.Resources;
const props = (id: string) => resources[id]?.Properties ?? {};
const ofType = (type: string) =>
  Object.entries(resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);

/** Every `Fn::ImportValue` in a value: the Sub text of its name. */
function imports(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) imports(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Fn::ImportValue') out.push(String((v as { 'Fn::Sub'?: unknown })['Fn::Sub']));
      else imports(v, out);
    }
  }
  return out;
}

/** `${name}` as CloudFormation's Sub writes it. */
const v = (name: string) => `\${${name}}`;
const STACK_PARAM = 'TenantgateStackName';
const importOf = (name: string) => ({
  'Fn::ImportValue': { 'Fn::Sub': `${v(STACK_PARAM)}-${name}` },
});

describe('template.yaml exports', () => {
  const outputs = (tenantgate.Outputs ?? {}) as Record<string, { Export?: { Name: unknown } }>;
  const exported = Object.values(outputs)
    .map((o) => o.Export?.Name)
    .filter((name) => name !== undefined);

  it('the authorizer ARN and the table name, under the stack name', () => {
    expect(outputs.AuthorizerFunctionArn?.Export?.Name).toEqual({
      'Fn::Sub': `${v('AWS::StackName')}-AuthorizerArn`,
    });
    expect(outputs.TableName?.Export?.Name).toEqual({
      'Fn::Sub': `${v('AWS::StackName')}-TableName`,
    });
    // Nothing that changes with a parameter update: CloudFormation refuses to change an imported export.
    expect(exported).toHaveLength(2);
  });
});

describe('examples/existing-api/template.yaml', () => {
  it('every Ref, GetAtt and Sub target exists', () => {
    const known = new Set([...Object.keys(example.Parameters ?? {}), ...Object.keys(resources)]);
    const missing = references(example).filter((r) => !known.has(r) && !r.startsWith('AWS::'));
    expect(missing).toEqual([]);
  });

  it('imports only what the tenantgate stack exports, by the stack-name parameter', () => {
    expect(example.Parameters?.[STACK_PARAM]?.Type).toBe('String');
    const names = imports(example);
    expect(names.length).toBeGreaterThan(0);
    const exports = Object.values(
      (tenantgate.Outputs ?? {}) as Record<string, { Export?: { Name: { 'Fn::Sub': string } } }>,
    )
      .map((o) => o.Export?.Name['Fn::Sub'])
      .filter((n): n is string => n !== undefined)
      .map((n) => n.replace(v('AWS::StackName'), v(STACK_PARAM)));
    expect(names.filter((n) => !exports.includes(n))).toEqual([]);
  });

  it('a REST and an HTTP API, each with a REQUEST authorizer that invokes the imported function', () => {
    const [rest] = ofType('AWS::ApiGateway::Authorizer');
    const [http] = ofType('AWS::ApiGatewayV2::Authorizer');
    expect(rest && http).toBeTruthy();
    const uri = {
      'Fn::Sub': [
        `arn:${v('AWS::Partition')}:apigateway:${v('AWS::Region')}:lambda:path/2015-03-31/functions/${v('AuthorizerArn')}/invocations`,
        { AuthorizerArn: importOf('AuthorizerArn') },
      ],
    };
    expect(props(rest as string)).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerUri: uri,
      AuthorizerResultTtlInSeconds: { Ref: 'AuthorizerResultTtlSeconds' },
    });
    // As template.yaml's HttpApi: payload 2.0, simple responses, results cached per route.
    expect(props(http as string)).toMatchObject({
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization', '$context.routeKey'],
      AuthorizerUri: uri,
      AuthorizerResultTtlInSeconds: { Ref: 'AuthorizerResultTtlSeconds' },
    });
  });

  it('API Gateway may invoke the imported authorizer, from each API’s own authorizer only', () => {
    const grants = ofType('AWS::Lambda::Permission')
      .map((id) => props(id))
      .filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(importOf('AuthorizerArn')));
    const sources = grants.map((p) => {
      expect(p).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
      });
      return (p.SourceArn as { 'Fn::Sub': string })['Fn::Sub'];
    });
    const arn = (api: string, authorizer: string) =>
      `arn:${v('AWS::Partition')}:execute-api:${v('AWS::Region')}:${v('AWS::AccountId')}:${v(api)}/authorizers/${v(authorizer)}`;
    expect(sources.sort()).toEqual(
      [
        arn('ExistingRestApi', 'RestTenantAuthorizer'),
        arn('ExistingHttpApi', 'HttpTenantAuthorizer'),
      ].sort(),
    );
  });

  it('every method and route is behind the tenantgate authorizer', () => {
    const methods = ofType('AWS::ApiGateway::Method').map((id) => props(id));
    const routes = ofType('AWS::ApiGatewayV2::Route').map((id) => props(id));
    expect(methods.length + routes.length).toBeGreaterThan(1);
    for (const m of methods)
      expect(m).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: 'RestTenantAuthorizer' },
      });
    for (const r of routes)
      expect(r).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: 'HttpTenantAuthorizer' },
      });
  });

  it('the default result TTL is the tenantgate stack’s, within its refresh margin', () => {
    const own = Number(example.Parameters?.AuthorizerResultTtlSeconds?.Default);
    const p = tenantgate.Parameters ?? {};
    expect(own).toBe(Number(p.ResultTtlSeconds?.Default));
    expect(own).toBeLessThanOrEqual(
      Number(p.RefreshMarginSeconds?.Default) - Number(p.ClockSkewSeconds?.Default),
    );
  });

  it('the example function never returns the tenant credentials of the context', () => {
    const code = String(props('WhoAmIFunction').InlineCode);
    const body = /const body = \{[^}]*\}/.exec(code)?.[0] ?? '';
    expect(body).toContain('tenantId');
    expect(body).not.toMatch(/accessKeyId|secretAccessKey|sessionToken/);
  });

  it('cfn-lint passes, except for properties and checks its bundled spec gets wrong', () => {
    // cfn-lint (npm, 1.9.x) bundles a CloudFormation spec from before HTTP APIs (2019–2020): each
    // exclusion is a real, documented property, or its ARN check reading `!Sub` pseudo parameters as
    // `${eu-west-1}`. ../shared/tools/validate-template (the real SAM translator and the current
    // resource spec) reports 0 problems for this file.
    const knownGaps: Record<string, string> = {
      'Resources > WhoAmIFunction > Properties > Architectures': 'SAM Architectures (2021)',
      'Resources > ExistingHttpApi > Properties':
        'RouteSelectionExpression is optional for HTTP APIs',
      'Resources > HttpTenantAuthorizer > Properties > AuthorizerPayloadFormatVersion': '2020',
      'Resources > HttpTenantAuthorizer > Properties > EnableSimpleResponses': '2020',
      'Resources > HttpWhoAmIIntegration > Properties > PayloadFormatVersion': '2020',
      'Resources > HttpStage > Properties': 'DeploymentId is optional with AutoDeploy',
      'Resources > HttpStage > Properties > AutoDeploy': '2020',
    };
    const { validateFile } = require('cfn-lint') as {
      validateFile(path: string): { errors: { crit: { resource: string; message: string }[] } };
    };
    const subArn = (e: { resource: string; message: string }) =>
      e.resource.endsWith('> SourceArn') && e.message.startsWith("Expecting an ARN, got 'arn:${");
    const unexpected = validateFile(EXAMPLE_PATH).errors.crit.filter(
      (e) => !(e.resource in knownGaps) && !subArn(e),
    );
    expect(unexpected).toEqual([]);
  });
});
