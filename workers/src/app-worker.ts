/**
 * Application (mutator) worker: a user process. Thin: it wires the control port and runs
 * the application in engine/app.ts. Started and supervised by piscina, one long task each.
 */
import type { MessagePort } from 'node:worker_threads';
import { collectBeforeTask, exposeControl, prepareApplication, type AppTask } from '@zreclaim/engine/internal';

export default async function appWorker(task: AppTask & { port: MessagePort }) {
  collectBeforeTask();
  const app = await prepareApplication(task);
  let go!: () => void;
  const started = new Promise<void>((r) => (go = r));
  exposeControl(task.port, { ...app.control, ready: () => true, start: () => go() });
  await started;
  try {
    return await app.run();
  } finally {
    task.port.close();
  }
}
