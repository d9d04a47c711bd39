/** The Cognito Identity stand-in of the local stack. */
export {
  type IdentityPool,
  type IdentityPoolOptions,
  type IdentityPoolProvider,
  type Session,
  startIdentityPool,
} from './server.js';
