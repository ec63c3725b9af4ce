/**
 * GC worker: the zram GC worker (gc: async). Thin: it wires the control port and runs
 * engine/gc.ts until the run closes the slot-free queue. Started by piscina (one long task
 * per run on a thread the engine keeps warm).
 */
import type { MessagePort } from 'node:worker_threads';
import { collectBeforeTask, exposeControl, GcWorker, type GcTask } from '@zreclaim/engine/internal';

export default async function gcWorker(task: GcTask & { port: MessagePort }) {
  collectBeforeTask();
  const gc = new GcWorker(task);
  exposeControl(task.port, gc.control());
  try {
    return await gc.run();
  } finally {
    task.port.close();
  }
}
