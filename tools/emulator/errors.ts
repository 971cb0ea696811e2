/**
 * Typed errors of the emulator's state layer. Messages are ThingsBoard's own where ThingsBoard has one,
 * so the REST layer can pass them through unchanged (as 400/404 bodies).
 */

export type ConflictCode =
  | "DUPLICATE_DEVICE_NAME"
  | "DUPLICATE_PROFILE_NAME"
  | "DUPLICATE_PROVISION_KEY"
  | "CREDENTIALS_IN_USE";

/** A create or update would break a uniqueness rule; nothing was changed. */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
  constructor(
    readonly code: ConflictCode,
    message: string,
  ) {
    super(message);
  }
}

/** Input the state layer cannot accept (ThingsBoard answers these with 400). */
export class ValidationError extends Error {
  override readonly name = "ValidationError";
}

/** An id or name that does not exist. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

/** The state file exists but cannot be used; the emulator must not start over it and lose data silently. */
export class StateFileCorruptError extends Error {
  override readonly name = "StateFileCorruptError";
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(
      `State file ${file} is unreadable (${detail}). ` +
        `Move it aside to start with an empty state, or restore a backup; it was left untouched.`,
    );
  }
}

/** The seed config (`--config FILE`) does not have the documented shape; `where` points at the bad field. */
export class InvalidSeedConfigError extends Error {
  override readonly name = "InvalidSeedConfigError";
  constructor(
    readonly where: string,
    problem: string,
  ) {
    super(`Seed config: ${where}: ${problem}`);
  }
}
