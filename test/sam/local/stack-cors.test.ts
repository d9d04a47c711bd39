/** The local stack reads template.yaml's CORS for its gateways: nothing set by hand. */
import { describe, expect, it } from 'vitest';
import { LocalStackConfigError } from '../../../sam/local/errors.js';
import {
  chooseLocal,
  initialRefs,
  type LocalResolution,
  resolveCondition,
  resolveLocal,
  resolveParameters,
} from '../../../sam/local/provision.js';
import { apiDefinitions } from '../../../sam/local/stack.js';
import { loadTemplate, type Template } from '../../../sam/template.js';

const template = loadTemplate();
const ORIGINS = 'http://127.0.0.1:3002,https://app.example.com';
const resolution = (t: Template = template, origins = ORIGINS): LocalResolution => ({
  region: 'us-east-1',
  accountId: '123456789012',
  stackName: 'tenantgate-local',
  parameters: resolveParameters(t, t.Parameters?.AllowedOrigins ? { AllowedOrigins: origins } : {}),
  refs: initialRefs(t, { region: 'us-east-1', stackName: 'tenantgate-local' }),
});

describe('template.yaml CORS → the local gateways', () => {
  it('REST: SAM Cors with the first origin, the preflight without the authorizer, four gateway responses', () => {
    const rest = apiDefinitions(template, resolution()).find((a) => a.kind === 'rest');
    expect(rest?.cors).toEqual({
      allowOrigin: 'http://127.0.0.1:3002',
      allowHeaders: 'authorization,content-type',
      maxAge: '600',
      preflightAuthorized: false,
    });
    const header = { 'Access-Control-Allow-Origin': "'http://127.0.0.1:3002'" };
    expect(rest?.gatewayResponses).toEqual({
      UNAUTHORIZED: { headers: header },
      ACCESS_DENIED: { headers: header },
      DEFAULT_4XX: { headers: header },
      DEFAULT_5XX: { headers: header },
    });
  });

  it('HTTP API: every origin, through the template’s !If', () => {
    const http = apiDefinitions(template, resolution()).find((a) => a.kind === 'http');
    expect(http?.cors).toEqual({
      allowOrigins: ['http://127.0.0.1:3002', 'https://app.example.com'],
      allowHeaders: ['authorization', 'content-type'],
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
      maxAge: 600,
    });
    expect(http?.gatewayResponses).toBeUndefined();
  });

  it('an unquoted SAM Cors value, a response template or an unsupported parameter is refused', () => {
    const t: Template = {
      Resources: {
        Api: {
          Type: 'AWS::Serverless::Api',
          Properties: {
            StageName: 'Prod',
            Cors: { AllowOrigin: 'https://app.example.com', Allow: 'x' },
            GatewayResponses: {
              DEFAULT_4XX: {
                ResponseParameters: { Paths: { a: "'b'" } },
                ResponseTemplates: { 'application/json': '{}' },
              },
            },
          },
        },
        Fn: {
          Type: 'AWS::Serverless::Function',
          Properties: {
            Events: {
              E: {
                Type: 'Api',
                Properties: { RestApiId: { Ref: 'Api' }, Path: '/x', Method: 'get' },
              },
            },
          },
        },
      },
    };
    expect(() => apiDefinitions(t, resolution(t))).toThrow(LocalStackConfigError);
    try {
      apiDefinitions(t, resolution(t));
    } catch (error) {
      expect((error as LocalStackConfigError).issues).toEqual([
        'Api.Cors.Allow is not a SAM Cors property',
        `Api.Cors.AllowOrigin: SAM takes a quoted string here, e.g. "'https://app.example.com'"`,
        'Api.GatewayResponses.DEFAULT_4XX.ResponseParameters.Paths: not supported locally',
        'Api.GatewayResponses.DEFAULT_4XX.ResponseTemplates: not supported locally',
      ]);
    }
  });
});

describe('intrinsics the CORS settings use', () => {
  const ctx = resolution();
  it('Fn::Select and Fn::Join over a CommaDelimitedList parameter', () => {
    expect(resolveLocal(template, ctx, { 'Fn::Select': [1, { Ref: 'AllowedOrigins' }] })).toBe(
      'https://app.example.com',
    );
    expect(resolveLocal(template, ctx, { 'Fn::Select': [2, { Ref: 'AllowedOrigins' }] })).toBe(
      undefined,
    );
    expect(resolveLocal(template, ctx, { 'Fn::Join': [' ', { Ref: 'AllowedOrigins' }] })).toBe(
      'http://127.0.0.1:3002 https://app.example.com',
    );
    expect(resolveLocal(template, ctx, { 'Fn::Select': ['0', ['a', { Ref: 'StageName' }]] })).toBe(
      'a',
    );
  });

  it('conditions and Fn::If, AWS::NoValue as nothing', () => {
    expect(resolveCondition(template, ctx, { Condition: 'HasAllowedOrigins' })).toBe(true);
    const emptyCtx = resolution(template, '');
    expect(resolveCondition(template, emptyCtx, { Condition: 'HasAllowedOrigins' })).toBe(false);
    const either = { 'Fn::If': ['HasAllowedOrigins', 'yes', { Ref: 'AWS::NoValue' }] };
    expect(chooseLocal(template, ctx, either)).toBe('yes');
    expect(chooseLocal(template, emptyCtx, either)).toBeUndefined();
    expect(
      resolveCondition(template, ctx, {
        'Fn::Or': [
          { 'Fn::Equals': ['a', 'b'] },
          { 'Fn::And': [{ 'Fn::Not': [{ 'Fn::Equals': [1, 2] }] }] },
        ],
      }),
    ).toBe(true);
    expect(() => chooseLocal(template, ctx, { 'Fn::If': ['Nope', 1, 2] })).toThrow(
      LocalStackConfigError,
    );
  });
});
