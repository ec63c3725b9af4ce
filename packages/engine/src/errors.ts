/** Errors of a run (as opposed to ConfigError, which is bad input). */
export class EngineError extends Error {
  override readonly name = 'EngineError';
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
