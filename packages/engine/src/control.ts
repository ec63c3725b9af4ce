/**
 * The control plane between the main thread and its workers: comlink over a MessagePort
 * handed to each worker with its task. Control only (ready, live stats, stop); nothing per
 * page ever crosses it.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { MessagePort } from 'node:worker_threads';

export type Remote<T> = Comlink.Remote<T>;

export function exposeControl(port: MessagePort, api: object): void {
  Comlink.expose(api, nodeEndpoint(port));
}

export function wrapControl<T>(port: MessagePort): Comlink.Remote<T> {
  return Comlink.wrap<T>(nodeEndpoint(port));
}

export function releaseControl(remote: Comlink.Remote<unknown>): void {
  remote[Comlink.releaseProxy]();
}
