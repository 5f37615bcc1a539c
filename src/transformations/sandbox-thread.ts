/**
 * The sandbox's thread (worker_threads): compiles each version of code once and runs it, one call
 * at a time, for the process that started it (sandbox-host.ts). Off the main thread, so a call that
 * overruns inside a built-in (QuickJS checks its interrupt only between operations) holds no event
 * loop of the service, and can be stopped by ending this thread.
 */
import { parentPort } from 'node:worker_threads';
import { LRUCache } from 'lru-cache';
import { CompiledCode, loadSandbox, SandboxError, type SandboxLimits } from './sandbox';
import type { SandboxReply, SandboxRequest } from './sandbox-host';

/** How many compiled versions the thread keeps (each a QuickJS runtime of a few hundred KB). */
const COMPILED_MAX = 200;

const compiled = new LRUCache<string, CompiledCode | SandboxError>({
  max: COMPILED_MAX,
  dispose: (value) => {
    if (value instanceof CompiledCode) value.dispose();
  },
});

async function answer(request: SandboxRequest, limits: SandboxLimits): Promise<SandboxReply> {
  const quickjs = await loadSandbox();
  if (request.kind === 'check') {
    CompiledCode.compile(quickjs, request.code, limits).dispose();
    return { id: request.id, ok: true, output: '' };
  }
  let code = compiled.get(request.version);
  if (!code) {
    try {
      code = CompiledCode.compile(quickjs, request.code, limits);
    } catch (err) {
      code = err instanceof SandboxError ? err : new SandboxError((err as Error).message);
    }
    compiled.set(request.version, code);
  }
  if (code instanceof SandboxError) throw code;
  try {
    return { id: request.id, ok: true, output: code.run(request.input) };
  } catch (err) {
    // Past a limit its heap is in an unknown state: compiled afresh next time.
    if (err instanceof SandboxError && err.limit) compiled.delete(request.version);
    throw err;
  }
}

// Ready once the WebAssembly module is loaded: the host's hard deadline starts with a call, not with the thread's start-up.
void loadSandbox().then(() => parentPort?.postMessage({ ready: true }));

parentPort?.on('message', (request: SandboxRequest & { limits: SandboxLimits }) => {
  answer(request, request.limits).then(
    (reply) => parentPort?.postMessage(reply),
    (err: unknown) => {
      const error = err instanceof SandboxError ? err : new SandboxError((err as Error)?.message ?? String(err));
      parentPort?.postMessage({ id: request.id, ok: false, message: error.message, line: error.line, limit: error.limit } satisfies SandboxReply);
    },
  );
});
