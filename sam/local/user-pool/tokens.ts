/**
 * JWT helpers of the front: the claims of a token cognito-local issued, e.g. the `client_id` of an
 * access token (which app client's permissions apply to an UpdateUserAttributes call).
 */

/** The payload of a compact JWS, or undefined when it is not one. Does not verify anything. */
export function jwtPayload(token: string | undefined): Record<string, unknown> | undefined {
  const parts = token?.split('.');
  if (parts?.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
