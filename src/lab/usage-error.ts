// The error for input a user gave wrongly: the CLI prints its message and exits with status 2.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
