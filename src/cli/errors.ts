/**
 * The CLI's failures, each with the exit code scripts can rely on: 1 error, 2 usage,
 * 3 not authenticated or forbidden. `main.ts` alone prints them, as one line on stderr.
 */
export const EXIT = { ok: 0, error: 1, usage: 2, auth: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags or arguments. `usage` is the command's help, printed after the message. */
export class UsageError extends CliError {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message, EXIT.usage);
  }
}

/** No usable credentials: never logged in, session over, token revoked. */
export class AuthError extends CliError {
  constructor(message: string) {
    super(message, EXIT.auth);
  }
}

/** A gateway answer that is not 2xx, as `{error, error_description}` (src/http/errors.ts). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
  ) {
    // 401 and 403 share exit 3: either way the caller's credentials are the problem.
    super(description, status === 401 || status === 403 ? EXIT.auth : EXIT.error);
  }
}
