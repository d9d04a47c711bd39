/**
 * What the front does per operation before, instead of, or after relaying it to cognito-local.
 * An operation not listed here is relayed untouched.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { assertWritable } from './attributes.js';
import type { StoredClient, UserPoolData } from './data.js';
import { CognitoErrorType, CognitoServiceError } from './errors.js';
import { attributeListMember, stringMember, type WireResponse } from './protocol.js';
import { jwtPayload } from './tokens.js';
import type { Upstream } from './upstream.js';

/** One awsJson call the front received. */
export interface Call {
  readonly operation: string;
  readonly input: Record<string, unknown>;
  /** The body as received, relayed byte for byte when the front changes nothing. */
  readonly body: Buffer;
  readonly headers: IncomingHttpHeaders;
}

export interface OperationsContext {
  readonly upstream: Upstream;
  readonly data: UserPoolData;
}

type Handler = (call: Call) => Promise<WireResponse>;

export function createOperations(ctx: OperationsContext) {
  const { upstream, data } = ctx;
  const relay = (call: Call) => upstream.relay('POST', '/', call.headers, call.body);

  /** The app client a request names, or Cognito's answer for an unknown one. */
  const clientNamed = async (clientId: string | undefined): Promise<StoredClient> => {
    const client = clientId === undefined ? undefined : await data.client(clientId);
    if (!client)
      throw new CognitoServiceError(
        CognitoErrorType.resourceNotFound,
        `User pool client ${clientId ?? ''} does not exist.`,
      );
    return client;
  };

  /** The app client an access token was issued to; a token that names none is refused. */
  const clientOfAccessToken = async (token: string | undefined): Promise<StoredClient> => {
    const claims = jwtPayload(token);
    const clientId = typeof claims?.client_id === 'string' ? claims.client_id : undefined;
    const client = clientId === undefined ? undefined : await data.client(clientId);
    if (!client || claims?.token_use !== 'access')
      throw new CognitoServiceError(CognitoErrorType.notAuthorized, 'Invalid Access Token');
    return client;
  };

  const handlers: Record<string, Handler> = {
    async SignUp(call) {
      const client = await clientNamed(stringMember(call.input, 'ClientId'));
      assertWritable(
        client,
        attributeListMember(call.input, 'UserAttributes').map((a) => a.Name),
      );
      return relay(call);
    },
    async UpdateUserAttributes(call) {
      const client = await clientOfAccessToken(stringMember(call.input, 'AccessToken'));
      assertWritable(
        client,
        attributeListMember(call.input, 'UserAttributes').map((a) => a.Name),
      );
      return relay(call);
    },
    async DeleteUserAttributes(call) {
      const client = await clientOfAccessToken(stringMember(call.input, 'AccessToken'));
      const names = call.input.UserAttributeNames;
      assertWritable(client, Array.isArray(names) ? names.map(String) : []);
      return relay(call);
    },
  };

  return {
    handle(call: Call): Promise<WireResponse> {
      const handler = Object.hasOwn(handlers, call.operation)
        ? handlers[call.operation]
        : undefined;
      return handler ? handler(call) : relay(call);
    },
  };
}
