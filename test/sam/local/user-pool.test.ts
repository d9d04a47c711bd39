/**
 * The user-pool front before a real cognito-local, with template.yaml's pool and app client, driven
 * by the real `@aws-sdk/client-cognito-identity-provider`. Each refusal is compared with Cognito's
 * documented or captured answer; "nothing changed" is read from cognito-local directly.
 */
import {
  AdminConfirmSignUpCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  AdminUpdateUserAttributesCommand,
  ChangePasswordCommand,
  type CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  DeleteUserAttributesCommand,
  DeleteUserCommand,
  ForgotPasswordCommand,
  GetUserCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
  UpdateUserAttributesCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  UNAUTHORIZED_ATTRIBUTE_MESSAGE,
  type UserPoolMessage,
} from '../../../sam/local/user-pool/index.js';
import { type FrontedUserPool, startFrontedUserPool } from '../../fixtures/user-pool.js';

const PASSWORD = 'Passw0rd!local';

let pool: FrontedUserPool;
let user: CognitoIdentityProviderClient;
/** Added to the front's clock: sessions expire without waiting. */
let skewMs = 0;

/** What the pool "sent": codes and temporary passwords. */
const sent: UserPoolMessage[] = [];
const lastCode = (email: string, kind: UserPoolMessage['kind']) =>
  sent.filter((m) => m.email === email && m.kind === kind).at(-1)?.code;

beforeAll(async () => {
  pool = await startFrontedUserPool({
    front: { now: () => Date.now() + skewMs, onMessage: (m) => sent.push(m) },
  });
  // A browser user has no AWS credentials: the SDK sends these public operations unsigned anyway.
  user = pool.client();
}, 60_000);
afterAll(() => pool?.stop());

/** The error an SDK call rejects with, as `{ name, message }`. */
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ name: 'resolved', message: '' }),
    (error: Error) => ({ name: error.name, message: error.message }),
  );

const signUp = (email: string, attributes: Record<string, string> = {}) =>
  user.send(
    new SignUpCommand({
      ClientId: pool.clientId,
      Username: email,
      Password: PASSWORD,
      UserAttributes: Object.entries({ email, ...attributes }).map(([Name, Value]) => ({
        Name,
        Value,
      })),
    }),
  );

async function confirmedUser(email: string): Promise<{ sub: string; accessToken: string }> {
  const { UserSub } = await signUp(email);
  await pool.admin.send(
    new AdminConfirmSignUpCommand({ UserPoolId: pool.userPoolId, Username: email }),
  );
  const { AuthenticationResult } = await user.send(
    new InitiateAuthCommand({
      ClientId: pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: PASSWORD },
    }),
  );
  return { sub: UserSub ?? '', accessToken: AuthenticationResult?.AccessToken ?? '' };
}

describe("the app client's WriteAttributes (template: [email])", () => {
  it('a SignUp carrying custom:tenant_id is refused as Cognito refuses it, and no user is created', async () => {
    const email = 'picks-own-tenant@example.com';
    expect(await refusal(signUp(email, { 'custom:tenant_id': 'victim-tenant' }))).toEqual({
      name: 'NotAuthorizedException',
      message: UNAUTHORIZED_ATTRIBUTE_MESSAGE,
    });
    expect(await pool.attributes(email)).toBeUndefined();
  });

  it('so are custom:role, email_verified and sub at sign-up', async () => {
    for (const [name, value] of [
      ['custom:role', 'admin'],
      ['email_verified', 'true'],
      ['sub', '00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const email = `writes-${name.replace(/\W/g, '')}@example.com`;
      expect(await refusal(signUp(email, { [name]: value }))).toEqual({
        name: 'NotAuthorizedException',
        message: UNAUTHORIZED_ATTRIBUTE_MESSAGE,
      });
      expect(await pool.attributes(email)).toBeUndefined();
    }
  });

  it('UpdateUserAttributes of custom:role is refused and changes nothing', async () => {
    const email = 'wants-admin@example.com';
    const { accessToken } = await confirmedUser(email);
    const before = await pool.attributes(email);
    expect(
      await refusal(
        user.send(
          new UpdateUserAttributesCommand({
            AccessToken: accessToken,
            UserAttributes: [
              { Name: 'email', Value: 'still-allowed@example.com' },
              { Name: 'custom:role', Value: 'admin' },
            ],
          }),
        ),
      ),
    ).toEqual({ name: 'NotAuthorizedException', message: UNAUTHORIZED_ATTRIBUTE_MESSAGE });
    // Not even the permitted email changed: the whole call is refused.
    expect(await pool.attributes(email)).toEqual(before);
    expect(before?.['custom:role']).toBeUndefined();
  });

  it('UpdateUserAttributes of email (writable) passes through', async () => {
    const email = 'moves@example.com';
    const { accessToken } = await confirmedUser(email);
    await user.send(
      new UpdateUserAttributesCommand({
        AccessToken: accessToken,
        UserAttributes: [{ Name: 'email', Value: 'moved@example.com' }],
      }),
    );
    expect((await pool.attributes('moved@example.com'))?.email).toBe('moved@example.com');
  });

  it('DeleteUserAttributes of custom:tenant_id is refused; Admin* calls are not subject to WriteAttributes', async () => {
    const email = 'member@example.com';
    const { accessToken } = await confirmedUser(email);
    await pool.admin.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: pool.userPoolId,
        Username: email,
        UserAttributes: [{ Name: 'custom:tenant_id', Value: 'acme' }],
      }),
    );
    expect(
      await refusal(
        user.send(
          new DeleteUserAttributesCommand({
            AccessToken: accessToken,
            UserAttributeNames: ['custom:tenant_id'],
          }),
        ),
      ),
    ).toEqual({ name: 'NotAuthorizedException', message: UNAUTHORIZED_ATTRIBUTE_MESSAGE });
    expect((await pool.attributes(email))?.['custom:tenant_id']).toBe('acme');
  });

  it('an access token that names no app client of the pool is refused before anything is written', async () => {
    const email = 'forger@example.com';
    const { accessToken } = await confirmedUser(email);
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = [
      header,
      Buffer.from(JSON.stringify({ ...claims, client_id: 'nosuchclient' })).toString('base64url'),
      signature,
    ].join('.');
    for (const token of [forged, 'not-a-token']) {
      expect(
        await refusal(
          user.send(
            new UpdateUserAttributesCommand({
              AccessToken: token,
              UserAttributes: [{ Name: 'custom:role', Value: 'admin' }],
            }),
          ),
        ),
      ).toEqual({ name: 'NotAuthorizedException', message: 'Invalid Access Token' });
    }
    expect((await pool.attributes(email))?.['custom:role']).toBeUndefined();
  });
});

describe('access tokens are verified before cognito-local reads them', () => {
  /** The token with `changes` applied to its claims, the original signature kept. */
  const edited = (token: string, changes: Record<string, unknown>) => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const body = Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url');
    return [header, body, signature].join('.');
  };

  it('an edited sub cannot read or delete another user (cognito-local only decoded the token)', async () => {
    const victim = await confirmedUser('victim@example.com');
    const { accessToken } = await confirmedUser('attacker@example.com');
    const forged = edited(accessToken, { sub: victim.sub, username: victim.sub });
    const invalid = { name: 'NotAuthorizedException', message: 'Invalid Access Token' };
    expect(await refusal(user.send(new GetUserCommand({ AccessToken: forged })))).toEqual(invalid);
    expect(await refusal(user.send(new DeleteUserCommand({ AccessToken: forged })))).toEqual(
      invalid,
    );
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${forged.split('.')[1]}.`;
    expect(await refusal(user.send(new DeleteUserCommand({ AccessToken: unsigned })))).toEqual(
      invalid,
    );
    expect(await pool.attributes('victim@example.com')).toBeDefined();
    // The attacker's own token still works.
    const me = await user.send(new GetUserCommand({ AccessToken: accessToken }));
    expect(me.UserAttributes?.find((a) => a.Name === 'email')?.Value).toBe('attacker@example.com');
  });

  it("an expired access token is refused with Cognito's message", async () => {
    const { accessToken } = await confirmedUser('expires@example.com');
    skewMs = 3601_000;
    try {
      expect(await refusal(user.send(new GetUserCommand({ AccessToken: accessToken })))).toEqual({
        name: 'NotAuthorizedException',
        message: 'Access Token has expired',
      });
    } finally {
      skewMs = 0;
    }
  });
});

describe('authentication sessions', () => {
  const TEMPORARY = 'Temp0rary!pass';
  const NEW = 'N3w-password!';
  const invited = async (email: string) => {
    await pool.admin.send(
      new AdminCreateUserCommand({
        UserPoolId: pool.userPoolId,
        Username: email,
        TemporaryPassword: TEMPORARY,
        MessageAction: 'SUPPRESS',
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );
  };
  const signIn = (email: string, password: string) =>
    user.send(
      new InitiateAuthCommand({
        ClientId: pool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
  const newPassword = (email: string, session: string | undefined) =>
    user.send(
      new RespondToAuthChallengeCommand({
        ClientId: pool.clientId,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: session,
        ChallengeResponses: { USERNAME: email, NEW_PASSWORD: NEW },
      }),
    );

  it('a NEW_PASSWORD_REQUIRED answer with a made-up session is refused; no password changes', async () => {
    await invited('invitee@example.com');
    await confirmedUser('established@example.com');
    for (const victim of ['invitee@example.com', 'established@example.com']) {
      expect(await refusal(newPassword(victim, 'made-up-session'))).toEqual({
        name: 'NotAuthorizedException',
        message: 'Invalid session for the user.',
      });
      expect((await refusal(signIn(victim, NEW))).name).not.toBe('resolved');
    }
    expect((await signIn('established@example.com', PASSWORD)).AuthenticationResult).toBeDefined();
  });

  it("an invitee's first sign-in needs the temporary password; wrong passwords and unknown users get Cognito's one answer", async () => {
    await invited('invited-too@example.com');
    await confirmedUser('known@example.com');
    const incorrect = {
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    };
    // cognito-local handed out a NEW_PASSWORD_REQUIRED session for any password here.
    expect(await refusal(signIn('invited-too@example.com', 'Wr0ng!password'))).toEqual(incorrect);
    // cognito-local: InvalidPasswordException.
    expect(await refusal(signIn('known@example.com', 'Wr0ng!password'))).toEqual(incorrect);
    // PreventUserExistenceErrors: ENABLED (template): no hint that the user does not exist.
    expect(await refusal(signIn('nobody@example.com', 'Wr0ng!password'))).toEqual(incorrect);
    expect((await signIn('invited-too@example.com', TEMPORARY)).ChallengeName).toBe(
      'NEW_PASSWORD_REQUIRED',
    );
  });

  it("a session is good for its own user only, once, and for 3 minutes (Cognito's default)", async () => {
    await invited('first@example.com');
    await invited('second@example.com');
    const first = await signIn('first@example.com', TEMPORARY);
    expect(first.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
    // Another user's session does not open this account.
    expect(await refusal(newPassword('second@example.com', first.Session))).toEqual({
      name: 'NotAuthorizedException',
      message: 'Invalid session for the user.',
    });
    const done = await newPassword('first@example.com', first.Session);
    expect(done.AuthenticationResult?.IdToken).toBeDefined();
    expect(await refusal(newPassword('first@example.com', first.Session))).toEqual({
      name: 'NotAuthorizedException',
      message: 'Invalid session for the user.',
    });
    const second = await signIn('second@example.com', TEMPORARY);
    skewMs = 3 * 60_000;
    try {
      expect(await refusal(newPassword('second@example.com', second.Session))).toEqual({
        name: 'NotAuthorizedException',
        message: 'Invalid session for the user, session is expired.',
      });
    } finally {
      skewMs = 0;
    }
  });
});

describe('IAM-authorized operations need SigV4 by a key the stack knows', () => {
  /** An awsJson call as a browser would send it: no Authorization header. */
  const unsigned = async (operation: string, input: unknown) => {
    const res = await fetch(pool.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify(input),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('an unsigned Admin* call is MissingAuthenticationTokenException and changes nothing', async () => {
    const email = 'unsigned-target@example.com';
    await signUp(email);
    for (const [operation, input] of [
      ['AdminConfirmSignUp', { UserPoolId: pool.userPoolId, Username: email }],
      [
        'AdminUpdateUserAttributes',
        {
          UserPoolId: pool.userPoolId,
          Username: email,
          UserAttributes: [{ Name: 'custom:tenant_id', Value: 'acme' }],
        },
      ],
      ['AdminGetUser', { UserPoolId: pool.userPoolId, Username: email }],
      ['ListUsers', { UserPoolId: pool.userPoolId }],
    ] as const) {
      expect(await unsigned(operation, input)).toEqual({
        status: 400,
        body: {
          __type: 'MissingAuthenticationTokenException',
          message: 'Missing Authentication Token',
        },
      });
    }
    const attributes = await pool.attributes(email);
    expect(attributes?.['custom:tenant_id']).toBeUndefined();
  });

  it('an unknown key is UnrecognizedClientException, a wrong secret InvalidSignatureException', async () => {
    const email = 'signed-target@example.com';
    await signUp(email);
    const update = new AdminUpdateUserAttributesCommand({
      UserPoolId: pool.userPoolId,
      Username: email,
      UserAttributes: [{ Name: 'custom:role', Value: 'admin' }],
    });
    const stranger = pool.client({ accessKeyId: 'ASIASTRANGER', secretAccessKey: 'whatever' });
    expect(await refusal(stranger.send(update))).toEqual({
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    const wrongSecret = pool.client({ accessKeyId: 'local', secretAccessKey: 'not-local' });
    expect((await refusal(wrongSecret.send(update))).name).toBe('InvalidSignatureException');
    expect((await pool.attributes(email))?.['custom:role']).toBeUndefined();
    await pool.admin.send(update);
    expect((await pool.attributes(email))?.['custom:role']).toBe('admin');
  });

  it('public operations stay unsigned', async () => {
    const res = await unsigned('SignUp', {
      ClientId: pool.clientId,
      Username: 'unsigned-signup@example.com',
      Password: PASSWORD,
    });
    expect(res.status).toBe(200);
    expect(res.body.UserSub).toEqual(expect.any(String));
  });
});

describe('accounts: the password policy, codes and confirmation as Cognito keeps them', () => {
  const policy = (violation: string) => ({
    name: 'InvalidPasswordException',
    message: `Password did not conform with policy: ${violation}`,
  });
  const signUpWith = (email: string, password: string) =>
    user.send(
      new SignUpCommand({
        ClientId: pool.clientId,
        Username: email,
        Password: password,
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );

  it("the pool's password policy (Cognito's default: 8, upper, lower, number, symbol) on every password", async () => {
    expect(await refusal(signUpWith('weak@example.com', 'abc'))).toEqual(
      policy('Password not long enough'),
    );
    expect(await refusal(signUpWith('weak@example.com', 'lowercase1!'))).toEqual(
      policy('Password must have uppercase characters'),
    );
    expect(await refusal(signUpWith('weak@example.com', 'UPPERCASE1!'))).toEqual(
      policy('Password must have lowercase characters'),
    );
    expect(await refusal(signUpWith('weak@example.com', 'NoNumbers!!'))).toEqual(
      policy('Password must have numeric characters'),
    );
    expect(await refusal(signUpWith('weak@example.com', 'NoSymbols11'))).toEqual(
      policy('Password must have symbol characters'),
    );
    expect(await pool.attributes('weak@example.com')).toBeUndefined();
    // A space inside counts as a symbol.
    expect((await signUpWith('spaced@example.com', 'Has space1')).UserSub).toBeDefined();

    const { accessToken } = await confirmedUser('changes@example.com');
    expect(
      await refusal(
        user.send(
          new ChangePasswordCommand({
            AccessToken: accessToken,
            PreviousPassword: PASSWORD,
            ProposedPassword: 'short',
          }),
        ),
      ),
    ).toEqual(policy('Password not long enough'));
    expect(
      await refusal(
        user.send(
          new ChangePasswordCommand({
            AccessToken: accessToken,
            PreviousPassword: 'Wr0ng!password',
            ProposedPassword: 'An0ther!password',
          }),
        ),
      ),
    ).toEqual({ name: 'NotAuthorizedException', message: 'Incorrect username or password.' });
    expect(
      await refusal(
        pool.admin.send(
          new AdminSetUserPasswordCommand({
            UserPoolId: pool.userPoolId,
            Username: 'changes@example.com',
            Password: 'password',
            Permanent: true,
          }),
        ),
      ),
    ).toEqual(policy('Password must have uppercase characters'));
    expect(
      await refusal(
        pool.admin.send(
          new AdminCreateUserCommand({
            UserPoolId: pool.userPoolId,
            Username: 'temp@example.com',
            TemporaryPassword: 'temporary',
            MessageAction: 'SUPPRESS',
          }),
        ),
      ),
    ).toEqual({
      name: 'InvalidPasswordException',
      message:
        'Password did not conform with password policy: Password must have uppercase characters',
    });
  });

  it('self-service sign-up end to end: the code is reachable, wrong codes are refused, email_verified becomes true', async () => {
    const email = 'self-service@example.com';
    const { CodeDeliveryDetails, UserConfirmed } = await signUp(email);
    expect(UserConfirmed).toBe(false);
    expect(CodeDeliveryDetails).toEqual({
      AttributeName: 'email',
      DeliveryMedium: 'EMAIL',
      Destination: 's***@e***',
    });
    const code = lastCode(email, 'sign-up confirmation code');
    expect(code).toMatch(/^\d{6}$/);
    const confirm = (confirmationCode: string) =>
      user.send(
        new ConfirmSignUpCommand({
          ClientId: pool.clientId,
          Username: email,
          ConfirmationCode: confirmationCode,
        }),
      );
    expect(await refusal(confirm(code === '000000' ? '111111' : '000000'))).toEqual({
      name: 'CodeMismatchException',
      message: 'Invalid verification code provided, please try again.',
    });
    await confirm(code ?? '');
    expect(await pool.attributes(email)).toMatchObject({ email, email_verified: 'true' });
    expect(await refusal(confirm(code ?? ''))).toEqual({
      name: 'NotAuthorizedException',
      message: 'User cannot be confirmed. Current status is CONFIRMED',
    });
    expect(await refusal(signUp(email))).toEqual({
      name: 'UsernameExistsException',
      message: 'An account with the given email already exists.',
    });
  });

  it('a password reset needs the code that was sent (cognito-local took a missing code for a match)', async () => {
    const email = 'resets@example.com';
    await confirmedUser(email);
    const unsigned = async (input: unknown) => {
      const res = await fetch(pool.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityProviderService.ConfirmForgotPassword',
        },
        body: JSON.stringify(input),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    const hijack = await unsigned({
      ClientId: pool.clientId,
      Username: email,
      Password: 'Hij4cked!password',
    });
    expect(hijack.__type).toBe('InvalidParameterException');
    const signInWith = (password: string) =>
      user.send(
        new InitiateAuthCommand({
          ClientId: pool.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: email, PASSWORD: password },
        }),
      );
    expect((await refusal(signInWith('Hij4cked!password'))).name).toBe('NotAuthorizedException');

    await user.send(new ForgotPasswordCommand({ ClientId: pool.clientId, Username: email }));
    const code = lastCode(email, 'password reset code') ?? '';
    const reset = (confirmationCode: string, password: string) =>
      user.send(
        new ConfirmForgotPasswordCommand({
          ClientId: pool.clientId,
          Username: email,
          ConfirmationCode: confirmationCode,
          Password: password,
        }),
      );
    expect(await refusal(reset(code, 'weak'))).toEqual(policy('Password not long enough'));
    expect(await refusal(reset(code === '000000' ? '111111' : '000000', 'N3w!password'))).toEqual({
      name: 'CodeMismatchException',
      message: 'Invalid verification code provided, please try again.',
    });
    await reset(code, 'N3w!password');
    expect((await signInWith('N3w!password')).AuthenticationResult).toBeDefined();
  });

  it('with PreventUserExistenceErrors, an unknown user looks like any other', async () => {
    const { CodeDeliveryDetails } = await user.send(
      new ForgotPasswordCommand({ ClientId: pool.clientId, Username: 'ghost@example.com' }),
    );
    expect(CodeDeliveryDetails).toEqual({
      AttributeName: 'email',
      DeliveryMedium: 'EMAIL',
      Destination: 'g***@e***',
    });
    expect(
      await refusal(
        user.send(
          new ConfirmSignUpCommand({
            ClientId: pool.clientId,
            Username: 'ghost@example.com',
            ConfirmationCode: '123456',
          }),
        ),
      ),
    ).toEqual({
      name: 'CodeMismatchException',
      message: 'Invalid verification code provided, please try again.',
    });
  });
});

describe('the front', () => {
  it("serves cognito-local's JWKS and counts what it refused", async () => {
    const res = await fetch(`${pool.endpoint}/${pool.userPoolId}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { keys: unknown[] }).keys).toHaveLength(1);
    const stats = pool.front.stats();
    expect(stats.calls.SignUp).toBeGreaterThan(0);
    expect(stats.refused.NotAuthorizedException).toBeGreaterThan(0);
  });
});
