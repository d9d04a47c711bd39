/**
 * The dependency floor of this design: the least an authorizer of it must do and import. It verifies
 * the ID token with aws-jwt-verify (JWKS prefetched at import, as ours), then
 * GetOpenIdTokenForDeveloperIdentity and GetCredentialsForIdentity with @aws-sdk/client-cognito-identity,
 * and returns an Allow carrying the credentials. No tenant check, no caches, no membership read, no
 * logs, no metrics, no time limits: what is left is the price of the two packages every authorizer
 * of this design carries. bench/cold-start.ts and bench/first-invocation.ts bundle it with the
 * template's esbuild settings and measure ours against it.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import { CognitoJwtVerifier } from 'aws-jwt-verify';

const env = process.env;
const verifier = CognitoJwtVerifier.create({
  userPoolId: env.USER_POOL_ID ?? '',
  tokenUse: 'id',
  clientId: (env.USER_POOL_CLIENT_IDS ?? '').split(','),
});
verifier.hydrate().catch(() => {});
const identityPoolId = env.IDENTITY_POOL_ID ?? '';
const client = new CognitoIdentityClient({ region: identityPoolId.split(':')[0], maxAttempts: 1 });

export const handler = async (event: { authorizationToken: string; methodArn: string }) => {
  const payload = await verifier.verify(event.authorizationToken.replace(/^Bearer /, ''));
  const minted = await client.send(
    new GetOpenIdTokenForDeveloperIdentityCommand({
      IdentityPoolId: identityPoolId,
      Logins: { [env.DEVELOPER_PROVIDER_NAME ?? '']: `${payload.iss}:${payload.sub}` },
      PrincipalTags: { tenant_id: String(payload['custom:tenant_id']), user_id: payload.sub },
    }),
  );
  const { Credentials } = await client.send(
    new GetCredentialsForIdentityCommand({
      IdentityId: minted.IdentityId,
      Logins: { 'cognito-identity.amazonaws.com': minted.Token ?? '' },
    }),
  );
  return {
    principalId: payload.sub,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    context: {
      accessKeyId: Credentials?.AccessKeyId,
      secretAccessKey: Credentials?.SecretKey,
      sessionToken: Credentials?.SessionToken,
    },
  };
};
