/**
 * Sign-up: the PostConfirmation trigger writes the user's profile (`USER#<sub>` / `PROFILE`) so the
 * table, not Cognito, is the primary store of who our users are. Cognito retries a trigger that fails
 * or times out, so the write is idempotent: create once, and a retry that finds the profile is a no-op.
 */
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidInputError, TenantsConfigError } from './errors.js';
import { PROFILE_SK, userPk } from './keys.js';
import { tableOptionIssues } from './query-all.js';

/** Options of {@link createProfileStore}. */
export interface ProfileStoreOptions {
  /** The trigger function's own role: PutItem on the table. */
  readonly client: DynamoDBDocumentClient;
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** A confirmed sign-up, as the PostConfirmation trigger sees it. */
export interface SignUp {
  readonly userId: string;
  readonly email: string;
}

/** User profiles (`USER#<sub>` / `PROFILE`), written by the sign-up trigger. */
export interface ProfileStore {
  /**
   * Write the profile unless it exists. @returns whether this call created it (false on a retry).
   * @throws InvalidInputError when the sub or the email is missing.
   */
  recordSignUp(signUp: SignUp): Promise<boolean>;
}

/** @throws TenantsConfigError listing every invalid option. */
export function createProfileStore(options: ProfileStoreOptions): ProfileStore {
  const issues: string[] = [];
  tableOptionIssues(options, issues);
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { client, tableName } = options;
  const now = options.now ?? Date.now;

  return {
    async recordSignUp({ userId, email }) {
      const problems: { field: string; message: string }[] = [];
      if (typeof userId !== 'string' || userId === '')
        problems.push({ field: 'sub', message: 'is required' });
      if (typeof email !== 'string' || email === '')
        problems.push({ field: 'email', message: 'is required' });
      if (problems.length > 0) throw new InvalidInputError(problems);
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              PK: userPk(userId),
              SK: PROFILE_SK,
              type: 'profile',
              userId,
              email,
              createdAt: new Date(now()).toISOString(),
            },
            // A retried trigger keeps the first write (and its createdAt) instead of overwriting it.
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
        return true;
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
  };
}
