/** Errors of the local stack (`npm start`, `startLocalStack`) and its launchers. */
import { SamError } from '../errors.js';

/** Base class of every local-stack error. */
export class LocalStackError extends SamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalStackError';
  }
}

/** Options or template parts the local stack cannot use; lists every problem at once. */
export class LocalStackConfigError extends LocalStackError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid local stack configuration:\n- ${issues.join('\n- ')}`);
    this.name = 'LocalStackConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/** A fixed port is already in use. The message names the flag that picks another one. */
export class PortTakenError extends LocalStackError {
  readonly port: number;
  readonly flag: string;
  constructor(port: number, flag: string, options?: { cause?: unknown }) {
    super(`port ${port} is taken: pass ${flag} N`, options);
    this.name = 'PortTakenError';
    this.port = port;
    this.flag = flag;
  }
}

/** DynamoDB Local needs a Java 17+ runtime on PATH. */
export class JavaMissingError extends LocalStackError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `Java 17+ is needed for DynamoDB Local: sudo apt-get install -y openjdk-17-jre-headless (${detail})`,
      options,
    );
    this.name = 'JavaMissingError';
  }
}

/** A local service (cognito-local, DynamoDB Local) did not come up. */
export class LocalServiceError extends LocalStackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalServiceError';
  }
}

/** A template function could not be built or failed while initialising. */
export class FunctionStartError extends LocalStackError {
  readonly functionName: string;
  constructor(functionName: string, message: string, options?: { cause?: unknown }) {
    super(`${functionName}: ${message}`, options);
    this.name = 'FunctionStartError';
    this.functionName = functionName;
  }
}

/**
 * The error a local function's invocation rejects with: `message` is the handler's error message
 * (API Gateway maps an authorizer's `Unauthorized` to 401), `errorType` its class name.
 */
export class FunctionInvocationError extends LocalStackError {
  readonly functionName: string;
  readonly errorType: string;
  constructor(functionName: string, errorType: string, errorMessage: string) {
    super(errorMessage);
    this.name = 'FunctionInvocationError';
    this.functionName = functionName;
    this.errorType = errorType;
  }
}

/** One part of the local stack failed to start; the others were stopped. */
export class LocalStackStartError extends LocalStackError {
  /** Which part: `cognito-local`, `DynamoDB Local`, `functions`, `gateway RestApi`, … */
  readonly part: string;
  constructor(part: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`${part} did not start: ${why}`, { cause });
    this.name = 'LocalStackStartError';
    this.part = part;
  }
}

/** The one line every tool prints when there is no running stack to talk to. */
export const NOT_RUNNING = 'the local stack is not running: start it with `npm start`';

/** There is no running local stack (no `.local/stack.json`, an unreadable one, or its process is gone). */
export class LocalStackNotRunningError extends LocalStackError {
  constructor(detail?: string) {
    super(detail ? `${NOT_RUNNING} (${detail})` : NOT_RUNNING);
    this.name = 'LocalStackNotRunningError';
  }
}
