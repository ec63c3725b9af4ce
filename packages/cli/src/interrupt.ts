import { EXIT } from './errors.js';

/**
 * Ctrl-C: the first aborts the run through `ac` (the engine stops and closes cleanly), a
 * second exits at once. Returns the function that removes the handler.
 */
export function abortOnInterrupt(ac: AbortController): () => void {
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}
