/**
 * Compression worker: kcompressd, a padata worker or a batch engine. Thin: it wires the
 * control port and runs engine/compressor.ts until kswapd closes its ring. Started and
 * supervised by piscina (one long task each; a dead worker's task is resubmitted).
 */
import type { MessagePort } from 'node:worker_threads';
import { collectBeforeTask, Compressor, exposeControl, type CompressorTask } from '@zreclaim/engine/internal';

export default async function compressWorker(task: CompressorTask & { port: MessagePort }) {
  collectBeforeTask();
  const compressor = new Compressor(task);
  exposeControl(task.port, compressor.control());
  try {
    return await compressor.run();
  } finally {
    task.port.close();
  }
}
