/** A mistake in the command line or config file: printed with the command's usage hint, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A problem the user can act on (missing file, bad data): printed as one line, exit code 1. */
export class TrainerError extends Error {
  override name = 'TrainerError';
}

/** Training produced a NaN or infinite loss; the last good checkpoint was left untouched. */
export class NonFiniteLossError extends TrainerError {
  override name = 'NonFiniteLossError';
}
