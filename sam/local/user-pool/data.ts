/**
 * Read-only access to cognito-local's data: its `.cognito/db` directory holds `clients.json` (app
 * clients with their `WriteAttributes`, `ExplicitAuthFlows`, `PreventUserExistenceErrors`, token
 * validity) and one `<poolId>.json` per pool (`Options` with the password policy and
 * `AutoVerifiedAttributes`, `Users` with their status, attributes, codes and — cognito-local keeps
 * it in clear — password). The front reads what it enforces from here, so a client or pool created
 * at run time is judged by its own settings, exactly as cognito-local stored them from the template.
 *
 * cognito-local awaits each file write before it answers, so after any answer the files are
 * current. Its writes are not atomic (truncate, then write): a read that meets a half-written file
 * retries briefly instead of failing.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserPoolDataError } from './errors.js';

export interface StoredAttribute {
  readonly Name: string;
  readonly Value?: string;
}

export interface StoredUser {
  /** cognito-local's key: the `sub` when email is the username attribute. */
  readonly Username: string;
  readonly Password?: string;
  readonly UserStatus?: string;
  readonly Enabled?: boolean;
  readonly Attributes?: readonly StoredAttribute[];
  readonly ConfirmationCode?: string;
  readonly AttributeVerificationCode?: string;
  readonly RefreshTokens?: readonly string[];
}

export interface StoredClient {
  readonly ClientId: string;
  readonly UserPoolId: string;
  readonly ClientSecret?: string;
  readonly WriteAttributes?: readonly string[];
  readonly ReadAttributes?: readonly string[];
  readonly ExplicitAuthFlows?: readonly string[];
  readonly PreventUserExistenceErrors?: string;
}

export interface PasswordPolicy {
  readonly MinimumLength?: number;
  readonly RequireUppercase?: boolean;
  readonly RequireLowercase?: boolean;
  readonly RequireNumbers?: boolean;
  readonly RequireSymbols?: boolean;
}

export interface StoredPoolOptions {
  readonly Id: string;
  readonly UsernameAttributes?: readonly string[];
  readonly AutoVerifiedAttributes?: readonly string[];
  readonly Policies?: { readonly PasswordPolicy?: PasswordPolicy };
}

export interface UserPoolData {
  /** An app client by id, or undefined. */
  client(clientId: string): Promise<StoredClient | undefined>;
  /** A pool's options, or undefined. */
  pool(poolId: string): Promise<StoredPoolOptions | undefined>;
  /** A user by username, `sub` or (pools with email as username) email — cognito-local's lookup. */
  user(poolId: string, username: string): Promise<StoredUser | undefined>;
  /** The user a refresh token was issued to and not revoked, or undefined. */
  userOfRefreshToken(poolId: string, refreshToken: string): Promise<StoredUser | undefined>;
}

const POOL_ID = /^[\w-]+_[0-9A-Za-z]+$/;
const READ_ATTEMPTS = 20;

type Sleep = (ms: number) => Promise<void>;
const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const attribute = (user: StoredUser, name: string) =>
  user.Attributes?.find((a) => a.Name === name)?.Value;

/**
 * The data of the cognito-local whose database directory is `dbDir` (`<cwd>/.cognito/db`).
 * @param wait how a retry waits (default: a 5 ms timer).
 */
export function cognitoLocalData(dbDir: string, wait: Sleep = sleep): UserPoolData {
  const readJson = async (file: string): Promise<Record<string, unknown> | undefined> => {
    for (let attempt = 1; ; attempt++) {
      let text: string;
      try {
        text = await readFile(join(dbDir, file), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new UserPoolDataError(`cannot read cognito-local's ${file}`, { cause: error });
      }
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch (error) {
        // Caught between cognito-local's truncate and write.
        if (attempt >= READ_ATTEMPTS)
          throw new UserPoolDataError(`cognito-local's ${file} is not JSON`, { cause: error });
        await wait(5);
      }
    }
  };
  const poolFile = async (poolId: string) =>
    POOL_ID.test(poolId) ? readJson(`${poolId}.json`) : undefined;

  return {
    async client(clientId) {
      const clients = (await readJson('clients.json'))?.Clients as
        | Record<string, StoredClient>
        | undefined;
      return clients && Object.hasOwn(clients, clientId) ? clients[clientId] : undefined;
    },
    async pool(poolId) {
      return (await poolFile(poolId))?.Options as StoredPoolOptions | undefined;
    },
    async user(poolId, username) {
      const db = await poolFile(poolId);
      if (!db) return undefined;
      const users = (db.Users ?? {}) as Record<string, StoredUser>;
      if (Object.hasOwn(users, username)) return users[username];
      const aliases = ((db.Options as StoredPoolOptions | undefined)?.UsernameAttributes ??
        []) as readonly string[];
      return Object.values(users).find(
        (u) =>
          attribute(u, 'sub') === username ||
          (aliases.includes('email') && attribute(u, 'email') === username) ||
          (aliases.includes('phone_number') && attribute(u, 'phone_number') === username),
      );
    },
    async userOfRefreshToken(poolId, refreshToken) {
      const users = ((await poolFile(poolId))?.Users ?? {}) as Record<string, StoredUser>;
      return Object.values(users).find((u) => u.RefreshTokens?.includes(refreshToken));
    },
  };
}

/** A user's attribute value. */
export const userAttribute = attribute;
