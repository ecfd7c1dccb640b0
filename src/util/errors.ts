/** The project's small error vocabulary. Each class sets `name`; SfuError carries a machine-readable code. */
export class SfuError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SfuError';
    this.code = code;
  }
}

/** A configuration file or registration file is invalid; `problems` holds one line per problem. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A request or message that breaks the wire contract; `errcode` is a Matrix-style error code. */
export class ProtocolError extends Error {
  readonly errcode: string;
  constructor(errcode: string, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.errcode = errcode;
  }
}

export class InvalidStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStateError';
  }
}

export class UnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedError';
  }
}

export function assertNever(x: never): never {
  throw new UnsupportedError(`unhandled value: ${JSON.stringify(x)}`);
}

/** Turns anything thrown into an Error (catch variables are `unknown`). */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
