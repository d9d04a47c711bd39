/** Types of the orchestration that other folders need without importing its implementation. */

/**
 * Answers whether a member still holds the role the token claims (the control plane's revocation
 * check). `false` denies with `membership-revoked`; a throw is an infrastructure error (500).
 */
export type MembershipCheck = (member: {
  readonly tenantId: string;
  readonly userId: string;
  readonly role: string;
}) => Promise<boolean>;
