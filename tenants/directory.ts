/**
 * The user directory: the few Cognito user-pool admin calls the control plane makes, behind one small
 * interface so the services are tested with a fake and the flows' failure points can be injected.
 *
 * Users are addressed by `sub`. Cognito's admin APIs accept it as `Username` for local users ("it can
 * be any of their alias attributes … or the sub"), so no username needs storing; cognito-local does the
 * same lookup.
 */
import {
  AdminAddUserToGroupCommand,
  AdminDeleteUserAttributesCommand,
  AdminGetUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUpdateUserAttributesCommand,
  type CognitoIdentityProviderClient,
  CreateGroupCommand,
  GetGroupCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { RefreshTokenError, TenantsConfigError } from './errors.js';

/** Tokens from a refresh. Cognito issues no new refresh token on REFRESH_TOKEN_AUTH by default. */
export interface Tokens {
  readonly idToken: string;
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken?: string;
}

/** A user of the user pool as the control plane sees it. */
export interface DirectoryUser {
  readonly userId: string;
  readonly email?: string;
  /** `custom:tenant_id`, when set. */
  readonly activeTenantId?: string;
  readonly role?: string;
}

/**
 * The user pool operations the control plane needs (groups, the active-tenant attributes, refresh).
 * `createCognitoDirectory` implements it with Cognito's admin API.
 */
export interface UserDirectory {
  /** Create the tenant's group unless it exists (idempotent). */
  ensureGroup(tenantId: string): Promise<void>;
  /** Idempotent: adding a member again is a no-op in Cognito. */
  addToGroup(userId: string, tenantId: string): Promise<void>;
  /** Idempotent: removing a non-member is a no-op in Cognito. */
  removeFromGroup(userId: string, tenantId: string): Promise<void>;
  /** Set `custom:tenant_id` and `custom:role` (what the next tokens carry). */
  setActiveTenant(userId: string, tenantId: string, role: string): Promise<void>;
  /** Remove both attributes: the next tokens are tenant-less. */
  clearActiveTenant(userId: string): Promise<void>;
  /** By sub or email; `undefined` for no such user. */
  findUser(usernameOrEmail: string): Promise<DirectoryUser | undefined>;
  /** REFRESH_TOKEN_AUTH. @throws RefreshTokenError when Cognito refuses the token. */
  refresh(refreshToken: string): Promise<Tokens>;
}

/** Options of {@link createCognitoDirectory}. */
export interface CognitoDirectoryOptions {
  /** A client with the control-plane function's own role (the admin actions in template.yaml). */
  readonly client: CognitoIdentityProviderClient;
  /** `<region>_<id>` of the user pool. */
  readonly userPoolId: string;
  /** The app client whose refresh tokens the clients send (public: no secret). */
  readonly clientId: string;
  /** The attribute naming the active tenant. Default `custom:tenant_id`. */
  readonly tenantClaim?: string;
  /** The attribute naming the role in the active tenant. Default `custom:role`. */
  readonly roleClaim?: string;
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : '');

/** @throws TenantsConfigError listing every invalid option. */
export function createCognitoDirectory(options: CognitoDirectoryOptions): UserDirectory {
  const issues: string[] = [];
  if (typeof options?.client?.send !== 'function') issues.push('client must be a Cognito client');
  if (!/^[a-z0-9-]+_[A-Za-z0-9]+$/.test(options?.userPoolId ?? ''))
    issues.push(`userPoolId must look like us-east-1_AbC123, got "${options?.userPoolId}"`);
  if (typeof options?.clientId !== 'string' || options.clientId === '')
    issues.push('clientId must be a non-empty string');
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { client, userPoolId, clientId } = options;
  const tenantClaim = options.tenantClaim ?? 'custom:tenant_id';
  const roleClaim = options.roleClaim ?? 'custom:role';

  return {
    async ensureGroup(tenantId) {
      // Look before creating: cognito-local answers a duplicate CreateGroup by replacing the group
      // (emptying it); real Cognito answers GroupExistsException, which a concurrent retry may see.
      try {
        await client.send(new GetGroupCommand({ UserPoolId: userPoolId, GroupName: tenantId }));
        return;
      } catch (error) {
        if (errorName(error) !== 'ResourceNotFoundException') throw error;
      }
      try {
        await client.send(
          new CreateGroupCommand({
            UserPoolId: userPoolId,
            GroupName: tenantId,
            Description: 'tenantgate tenant',
          }),
        );
      } catch (error) {
        if (errorName(error) !== 'GroupExistsException') throw error;
      }
    },
    async addToGroup(userId, tenantId) {
      await client.send(
        new AdminAddUserToGroupCommand({
          UserPoolId: userPoolId,
          Username: userId,
          GroupName: tenantId,
        }),
      );
    },
    async removeFromGroup(userId, tenantId) {
      await client.send(
        new AdminRemoveUserFromGroupCommand({
          UserPoolId: userPoolId,
          Username: userId,
          GroupName: tenantId,
        }),
      );
    },
    async setActiveTenant(userId, tenantId, role) {
      await client.send(
        new AdminUpdateUserAttributesCommand({
          UserPoolId: userPoolId,
          Username: userId,
          UserAttributes: [
            { Name: tenantClaim, Value: tenantId },
            { Name: roleClaim, Value: role },
          ],
        }),
      );
    },
    async clearActiveTenant(userId) {
      await client.send(
        new AdminDeleteUserAttributesCommand({
          UserPoolId: userPoolId,
          Username: userId,
          UserAttributeNames: [tenantClaim, roleClaim],
        }),
      );
    },
    async findUser(usernameOrEmail) {
      try {
        const user = await client.send(
          new AdminGetUserCommand({ UserPoolId: userPoolId, Username: usernameOrEmail }),
        );
        const attr = (name: string) => user.UserAttributes?.find((a) => a.Name === name)?.Value;
        const userId = attr('sub');
        if (!userId) return undefined;
        const email = attr('email');
        const activeTenantId = attr(tenantClaim);
        const role = attr(roleClaim);
        return {
          userId,
          ...(email ? { email } : {}),
          ...(activeTenantId ? { activeTenantId } : {}),
          ...(role ? { role } : {}),
        };
      } catch (error) {
        if (errorName(error) === 'UserNotFoundException') return undefined;
        throw error;
      }
    },
    async refresh(refreshToken) {
      try {
        const { AuthenticationResult: r } = await client.send(
          new InitiateAuthCommand({
            ClientId: clientId,
            AuthFlow: 'REFRESH_TOKEN_AUTH',
            AuthParameters: { REFRESH_TOKEN: refreshToken },
          }),
        );
        if (!r?.IdToken || !r.AccessToken)
          throw new RefreshTokenError('Cognito returned no tokens');
        return {
          idToken: r.IdToken,
          accessToken: r.AccessToken,
          expiresIn: r.ExpiresIn ?? 3600,
          ...(r.RefreshToken ? { refreshToken: r.RefreshToken } : {}),
        };
      } catch (error) {
        if (error instanceof RefreshTokenError) throw error;
        if (errorName(error) === 'NotAuthorizedException') {
          throw new RefreshTokenError('the refresh token was refused: sign in again', {
            cause: error,
          });
        }
        throw error;
      }
    },
  };
}

/**
 * The `sub` of a token just issued by Cognito (read, not verified: it came from Cognito over TLS in
 * this very call). Used to refuse handing back tokens of someone other than the caller.
 */
export function tokenSubject(idToken: string): string | undefined {
  const sub = tokenClaims(idToken)?.sub;
  return typeof sub === 'string' ? sub : undefined;
}

/**
 * The `cognito:groups` of a token just issued by Cognito (read, not verified, as `tokenSubject`):
 * a member invited a moment ago is in the group, while the token they hold still lacks it.
 */
export function tokenGroups(idToken: string): string[] {
  const groups = tokenClaims(idToken)?.['cognito:groups'];
  return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [];
}

function tokenClaims(idToken: string): Record<string, unknown> | undefined {
  const payload = idToken.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
