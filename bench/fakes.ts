/** Test doubles shared by the in-process benchmarks. */
import type { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';

/**
 * A Cognito Identity client that answers instantly: one IdentityId, credentials valid an hour after
 * `now()`. Keeps the network out of per-request timings.
 */
export function instantCognitoIdentity(now: () => number = Date.now): CognitoIdentityClient {
  return {
    send: async (command: { constructor: { name: string }; input: { IdentityId?: string } }) =>
      command.constructor.name === 'GetOpenIdTokenForDeveloperIdentityCommand'
        ? { IdentityId: 'us-east-1:bench', Token: 'openid-bench' }
        : {
            IdentityId: command.input.IdentityId,
            Credentials: {
              AccessKeyId: 'ASIA',
              SecretKey: 's',
              SessionToken: 't',
              Expiration: new Date(now() + 3600e3),
            },
          },
  } as unknown as CognitoIdentityClient;
}
