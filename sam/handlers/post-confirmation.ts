/**
 * The user pool's PostConfirmation trigger: writes the new user's profile to the table (the primary
 * store of users), idempotently, since Cognito retries a trigger that fails or times out. A failure
 * here fails the confirmation, so the user retries rather than ending up without a profile.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createProfileStore } from '../../tenants/index.js';
import { ownTableClient } from '../clients.js';
import { readControlPlaneConfig } from '../config.js';

const config = readControlPlaneConfig();
const logger = new Logger({ serviceName: config.serviceName });
const profiles = createProfileStore({
  client: ownTableClient(config),
  tableName: config.tableName,
});

interface PostConfirmationEvent {
  readonly triggerSource?: string;
  readonly userName?: string;
  readonly request?: { readonly userAttributes?: Readonly<Record<string, string>> };
}

/** Cognito PostConfirmation trigger: returns the event, as Cognito requires. */
export const handler = async <E extends PostConfirmationEvent>(event: E): Promise<E> => {
  // A confirmed password reset also fires PostConfirmation; only a sign-up creates a profile.
  if (event.triggerSource !== 'PostConfirmation_ConfirmSignUp') return event;
  const attributes = event.request?.userAttributes ?? {};
  const created = await profiles.recordSignUp({
    userId: attributes.sub ?? '',
    email: attributes.email ?? '',
  });
  logger.info(created ? 'profile created' : 'profile exists (retried trigger)', {
    userId: attributes.sub,
  });
  return event;
};
