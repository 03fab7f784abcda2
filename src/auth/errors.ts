/** Why a request was refused on the grounds of who sent it; mapped to 401/403/429 at the HTTP edge. */
export abstract class AuthError extends Error {}

/** No bearer token at all. */
export class NotAuthenticatedError extends AuthError {
  override readonly name = 'NotAuthenticatedError';
  constructor() {
    super('no bearer token');
  }
}

/** A token that is malformed, badly signed, expired, or lacks a required claim. */
export class InvalidTokenError extends AuthError {
  override readonly name = 'InvalidTokenError';
}

/** A valid token of a user without the role the action needs. */
export class ForbiddenError extends AuthError {
  override readonly name = 'ForbiddenError';
  constructor() {
    super('admin role required');
  }
}

export class LoginFailedError extends AuthError {
  override readonly name = 'LoginFailedError';
  constructor() {
    super('incorrect username or password');
  }
}

export class TooManyLoginAttemptsError extends AuthError {
  override readonly name = 'TooManyLoginAttemptsError';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many login attempts; retry in ${retryAfterSeconds} s`);
  }
}
