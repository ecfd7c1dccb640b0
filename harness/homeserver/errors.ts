/**
 * Matrix errors of the test homeserver. A `violation` is a request the Matrix spec (or Synapse) rejects as
 * malformed — bad path, method, auth, parameters or body — and lands in `TestHomeserver.rejections`; other
 * errors (M_USER_IN_USE, M_NOT_FOUND, room-auth M_FORBIDDEN, …) are ordinary outcomes a correct client meets.
 */
export class MatrixError extends Error {
  readonly status: number;
  readonly errcode: string;
  readonly violation: boolean;
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    errcode: string,
    message: string,
    opts: { violation?: boolean; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'MatrixError';
    this.status = status;
    this.errcode = errcode;
    this.violation = opts.violation ?? false;
    this.extra = opts.extra ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

/** A request the spec rejects (recorded in `rejections`). */
export function violation(status: number, errcode: string, message: string): MatrixError {
  return new MatrixError(status, errcode, message, { violation: true });
}

/** An ordinary error outcome (not recorded as a spec violation). */
export function outcome(
  status: number,
  errcode: string,
  message: string,
  extra?: Record<string, unknown>,
): MatrixError {
  return new MatrixError(status, errcode, message, extra === undefined ? {} : { extra });
}

export const forbidden = (message: string): MatrixError => outcome(403, 'M_FORBIDDEN', message);
export const notFound = (message: string): MatrixError => outcome(404, 'M_NOT_FOUND', message);
export const badJson = (message: string): MatrixError => violation(400, 'M_BAD_JSON', message);
export const invalidParam = (message: string): MatrixError => violation(400, 'M_INVALID_PARAM', message);
