import {
  AdminAddUserToGroupCommand,
  AdminDeleteUserAttributesCommand,
  AdminGetUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  GetGroupCommand,
  GroupExistsException,
  InitiateAuthCommand,
  InternalErrorException,
  NotAuthorizedException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { fc, test } from '@fast-check/vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type CognitoDirectoryOptions,
  createCognitoDirectory,
  RefreshTokenError,
  TenantsConfigError,
  tokenGroups,
  tokenSubject,
} from '../../tenants/index.js';
import { TEST_CLIENT_ID, TEST_POOL_ID, unsignedJwt } from '../fixtures/keys.js';

const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1' });
const mock = mockClient(cognito);
const meta = { $metadata: {} };
const directory = (options: Partial<CognitoDirectoryOptions> = {}) =>
  createCognitoDirectory({
    client: cognito,
    userPoolId: TEST_POOL_ID,
    clientId: TEST_CLIENT_ID,
    ...options,
  });
const notFound = () => new ResourceNotFoundException({ message: 'Group not found', ...meta });

beforeEach(() => mock.reset());

describe('createCognitoDirectory options', () => {
  it('lists every problem at once, when the factory runs', () => {
    const error = (() => {
      try {
        createCognitoDirectory({
          client: {} as CognitoIdentityProviderClient,
          userPoolId: 'not a pool',
          clientId: '',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TenantsConfigError);
    const issues = (error as TenantsConfigError).issues;
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(/client/);
    expect(issues[1]).toMatch(/userPoolId.*"not a pool"/);
    expect(issues[2]).toMatch(/clientId/);
    expect(Object.isFrozen(issues)).toBe(true);
    // Nothing was sent: validation never reaches Cognito.
    expect(mock.calls()).toHaveLength(0);
  });

  it('refuses missing options and a missing options object', () => {
    expect(() => createCognitoDirectory(undefined as unknown as CognitoDirectoryOptions)).toThrow(
      TenantsConfigError,
    );
    expect(() =>
      createCognitoDirectory({ client: cognito } as unknown as CognitoDirectoryOptions),
    ).toThrow(/userPoolId[\s\S]*clientId/);
  });

  it('accepts a valid pool id and client id', () => {
    expect(() => directory()).not.toThrow();
  });
});

describe('ensureGroup', () => {
  it('looks first and never creates an existing group (cognito-local would empty it)', async () => {
    mock.on(GetGroupCommand).resolves({ Group: { GroupName: 'acme' } });
    await directory().ensureGroup('acme');
    expect(mock.commandCalls(GetGroupCommand)[0]?.args[0].input).toEqual({
      UserPoolId: TEST_POOL_ID,
      GroupName: 'acme',
    });
    expect(mock.commandCalls(CreateGroupCommand)).toHaveLength(0);
  });

  it('creates a missing group named by the tenant id', async () => {
    mock.on(GetGroupCommand).rejects(notFound());
    mock.on(CreateGroupCommand).resolves({});
    await directory().ensureGroup('acme');
    const calls = mock.commandCalls(CreateGroupCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({ UserPoolId: TEST_POOL_ID, GroupName: 'acme' });
  });

  it('tolerates the race where a concurrent call created the group in between', async () => {
    mock.on(GetGroupCommand).rejects(notFound());
    mock
      .on(CreateGroupCommand)
      .rejects(
        new GroupExistsException({ message: 'A group with the name already exists', ...meta }),
      );
    await expect(directory().ensureGroup('acme')).resolves.toBeUndefined();
  });

  it('surfaces other errors of the look-up without creating', async () => {
    const throttled = new TooManyRequestsException({ message: 'slow down', ...meta });
    mock.on(GetGroupCommand).rejects(throttled);
    await expect(directory().ensureGroup('acme')).rejects.toBe(throttled);
    expect(mock.commandCalls(CreateGroupCommand)).toHaveLength(0);
  });

  it('surfaces other errors of the creation', async () => {
    const internal = new InternalErrorException({ message: 'boom', ...meta });
    mock.on(GetGroupCommand).rejects(notFound());
    mock.on(CreateGroupCommand).rejects(internal);
    await expect(directory().ensureGroup('acme')).rejects.toBe(internal);
  });
});

describe('group membership and attributes', () => {
  it('adds and removes a user by sub', async () => {
    mock.on(AdminAddUserToGroupCommand).resolves({});
    mock.on(AdminRemoveUserFromGroupCommand).resolves({});
    const d = directory();
    await d.addToGroup('u1', 'acme');
    await d.removeFromGroup('u1', 'acme');
    const expected = { UserPoolId: TEST_POOL_ID, Username: 'u1', GroupName: 'acme' };
    expect(mock.commandCalls(AdminAddUserToGroupCommand)[0]?.args[0].input).toEqual(expected);
    expect(mock.commandCalls(AdminRemoveUserFromGroupCommand)[0]?.args[0].input).toEqual(expected);
  });

  it('sets and clears the tenant and role attributes (default claim names)', async () => {
    mock.on(AdminUpdateUserAttributesCommand).resolves({});
    mock.on(AdminDeleteUserAttributesCommand).resolves({});
    const d = directory();
    await d.setActiveTenant('u1', 'acme', 'pilot');
    await d.clearActiveTenant('u1');
    expect(mock.commandCalls(AdminUpdateUserAttributesCommand)[0]?.args[0].input).toEqual({
      UserPoolId: TEST_POOL_ID,
      Username: 'u1',
      UserAttributes: [
        { Name: 'custom:tenant_id', Value: 'acme' },
        { Name: 'custom:role', Value: 'pilot' },
      ],
    });
    expect(mock.commandCalls(AdminDeleteUserAttributesCommand)[0]?.args[0].input).toEqual({
      UserPoolId: TEST_POOL_ID,
      Username: 'u1',
      UserAttributeNames: ['custom:tenant_id', 'custom:role'],
    });
  });

  it('uses configured claim names', async () => {
    mock.on(AdminUpdateUserAttributesCommand).resolves({});
    mock.on(AdminDeleteUserAttributesCommand).resolves({});
    const d = directory({ tenantClaim: 'custom:org', roleClaim: 'custom:r' });
    await d.setActiveTenant('u1', 'acme', 'pilot');
    await d.clearActiveTenant('u1');
    expect(
      mock.commandCalls(AdminUpdateUserAttributesCommand)[0]?.args[0].input.UserAttributes,
    ).toEqual([
      { Name: 'custom:org', Value: 'acme' },
      { Name: 'custom:r', Value: 'pilot' },
    ]);
    expect(
      mock.commandCalls(AdminDeleteUserAttributesCommand)[0]?.args[0].input.UserAttributeNames,
    ).toEqual(['custom:org', 'custom:r']);
  });

  it('surfaces Cognito errors as they are', async () => {
    const gone = new UserNotFoundException({ message: 'User does not exist.', ...meta });
    mock.on(AdminAddUserToGroupCommand).rejects(gone);
    await expect(directory().addToGroup('u1', 'acme')).rejects.toBe(gone);
  });
});

describe('findUser', () => {
  const attributes = (pairs: Record<string, string>) =>
    Object.entries(pairs).map(([Name, Value]) => ({ Name, Value }));

  it('reads sub, email, active tenant and role', async () => {
    mock.on(AdminGetUserCommand).resolves({
      Username: 'whatever',
      UserAttributes: attributes({
        sub: 'u1',
        email: 'ann@example.com',
        'custom:tenant_id': 'acme',
        'custom:role': 'pilot',
      }),
    });
    await expect(directory().findUser('ann@example.com')).resolves.toEqual({
      userId: 'u1',
      email: 'ann@example.com',
      activeTenantId: 'acme',
      role: 'pilot',
    });
    expect(mock.commandCalls(AdminGetUserCommand)[0]?.args[0].input).toEqual({
      UserPoolId: TEST_POOL_ID,
      Username: 'ann@example.com',
    });
  });

  it('finds by sub, leaving absent attributes out', async () => {
    mock.on(AdminGetUserCommand).resolves({ UserAttributes: attributes({ sub: 'u1' }) });
    const user = await directory().findUser('u1');
    expect(user).toEqual({ userId: 'u1' });
    expect(Object.keys(user ?? {})).toEqual(['userId']);
  });

  it('reads configured claim names', async () => {
    mock.on(AdminGetUserCommand).resolves({
      UserAttributes: attributes({ sub: 'u1', 'custom:org': 'acme', 'custom:r': 'pilot' }),
    });
    await expect(
      directory({ tenantClaim: 'custom:org', roleClaim: 'custom:r' }).findUser('u1'),
    ).resolves.toEqual({ userId: 'u1', activeTenantId: 'acme', role: 'pilot' });
  });

  it('is undefined for no such user, or a user without a sub', async () => {
    mock
      .on(AdminGetUserCommand)
      .rejectsOnce(new UserNotFoundException({ message: 'User does not exist.', ...meta }))
      .resolvesOnce({ UserAttributes: attributes({ email: 'x@example.com' }) })
      .resolvesOnce({});
    const d = directory();
    await expect(d.findUser('nobody@example.com')).resolves.toBeUndefined();
    await expect(d.findUser('x@example.com')).resolves.toBeUndefined();
    await expect(d.findUser('y@example.com')).resolves.toBeUndefined();
  });

  it('surfaces other errors', async () => {
    const throttled = new TooManyRequestsException({ message: 'slow down', ...meta });
    mock.on(AdminGetUserCommand).rejects(throttled);
    await expect(directory().findUser('u1')).rejects.toBe(throttled);
  });
});

describe('refresh', () => {
  it('sends REFRESH_TOKEN_AUTH with the app client and returns the tokens', async () => {
    mock.on(InitiateAuthCommand).resolves({
      AuthenticationResult: { IdToken: 'id', AccessToken: 'access', ExpiresIn: 900 },
    });
    await expect(directory().refresh('rt')).resolves.toEqual({
      idToken: 'id',
      accessToken: 'access',
      expiresIn: 900,
    });
    expect(mock.commandCalls(InitiateAuthCommand)[0]?.args[0].input).toEqual({
      ClientId: TEST_CLIENT_ID,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: 'rt' },
    });
  });

  it('passes on a rotated refresh token and defaults the lifetime to an hour', async () => {
    mock.on(InitiateAuthCommand).resolves({
      AuthenticationResult: { IdToken: 'id', AccessToken: 'access', RefreshToken: 'rt2' },
    });
    await expect(directory().refresh('rt')).resolves.toEqual({
      idToken: 'id',
      accessToken: 'access',
      expiresIn: 3600,
      refreshToken: 'rt2',
    });
  });

  it('maps NotAuthorizedException to RefreshTokenError, keeping the cause', async () => {
    const refused = new NotAuthorizedException({ message: 'Invalid Refresh Token', ...meta });
    mock.on(InitiateAuthCommand).rejects(refused);
    const error = await directory()
      .refresh('rt')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefreshTokenError);
    expect((error as RefreshTokenError).cause).toBe(refused);
    expect((error as Error).message).not.toContain('rt');
  });

  it('is a RefreshTokenError when Cognito answers without tokens (e.g. a challenge)', async () => {
    mock
      .on(InitiateAuthCommand)
      .resolvesOnce({ ChallengeName: 'SMS_MFA' })
      .resolvesOnce({ AuthenticationResult: { IdToken: 'id' } });
    await expect(directory().refresh('rt')).rejects.toBeInstanceOf(RefreshTokenError);
    await expect(directory().refresh('rt')).rejects.toBeInstanceOf(RefreshTokenError);
  });

  it('surfaces other errors (not a token problem: the client may retry)', async () => {
    const throttled = new TooManyRequestsException({ message: 'slow down', ...meta });
    mock.on(InitiateAuthCommand).rejects(throttled);
    await expect(directory().refresh('rt')).rejects.toBe(throttled);
  });
});

describe('tokenSubject', () => {
  test.prop([fc.string(), fc.dictionary(fc.string(), fc.jsonValue())])(
    'reads back any string sub, whatever else the payload holds',
    (sub, claims) => {
      expect(tokenSubject(unsignedJwt({ ...claims, sub }, 'k'))).toBe(sub);
    },
  );

  test.prop([fc.string()])('never throws on arbitrary input', (token) => {
    expect(() => tokenSubject(token)).not.toThrow();
  });

  it('reads the sub of a JWT', () => {
    expect(tokenSubject(unsignedJwt({ sub: 'u1', email: 'a@b.c' }, 'k'))).toBe('u1');
  });

  it.each([
    ['no payload', 'abc'],
    ['empty payload', 'abc..def'],
    ['not JSON', `a.${Buffer.from('not json').toString('base64url')}.b`],
    ['not base64url JSON', 'a.%%%.b'],
    ['no sub', unsignedJwt({ email: 'a@b.c' }, 'k')],
    ['a numeric sub', unsignedJwt({ sub: 42 }, 'k')],
    ['a null payload', `a.${Buffer.from('null').toString('base64url')}.b`],
    ['an empty string', ''],
  ])('is undefined for %s', (_, token) => {
    expect(tokenSubject(token)).toBeUndefined();
  });
});

describe('tokenGroups', () => {
  it('reads the cognito:groups of a JWT', () => {
    expect(
      tokenGroups(unsignedJwt({ sub: 'u1', 'cognito:groups': ['acme', 'beta'] }, 'k')),
    ).toEqual(['acme', 'beta']);
  });

  it('keeps only the strings of the list', () => {
    expect(
      tokenGroups(unsignedJwt({ 'cognito:groups': ['acme', 7, null, { a: 1 }] }, 'k')),
    ).toEqual(['acme']);
  });

  test.prop([fc.string()])('never throws on arbitrary input', (token) => {
    expect(() => tokenGroups(token)).not.toThrow();
  });

  it.each([
    ['no groups claim', unsignedJwt({ sub: 'u1' }, 'k')],
    ['a string, not a list', unsignedJwt({ 'cognito:groups': 'acme' }, 'k')],
    ['not JSON', `a.${Buffer.from('not json').toString('base64url')}.b`],
    ['a null payload', `a.${Buffer.from('null').toString('base64url')}.b`],
    ['an empty string', ''],
  ])('is empty for %s', (_, token) => {
    expect(tokenGroups(token)).toEqual([]);
  });
});
