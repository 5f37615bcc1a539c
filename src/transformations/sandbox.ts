import {
  newQuickJSWASMModuleFromVariant,
  RELEASE_SYNC,
  shouldInterruptAfterDeadline,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';

/**
 * Transformations run in QuickJS compiled to WebAssembly (quickjs-emscripten): a context has the
 * language's built-ins and nothing of the host (no require, network, timers, file system or
 * environment) unless given, and each runtime has its own heap limit and an interrupt check, so
 * a tenant's code can neither reach the worker nor hold its event loop past its time limit.
 * Chosen over node:vm (not a security boundary) and isolated-vm (a native addon to build per
 * Node release); a call costs about 25 µs (bench/README.md).
 */

export interface SandboxLimits {
  /** Heap of one compiled transformation. @default 16 MiB */
  memoryBytes: number;
  /** Run time of one call of `handler`. @default 50 ms */
  callMs: number;
  /** Run time of the code's top level, once per compilation. @default 200 ms */
  compileMs: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { memoryBytes: 16 * 1024 * 1024, callMs: 50, compileMs: 200 };

const STACK_BYTES = 512 * 1024;
const FILE_NAME = 'transformation.js';

/** The code failed: its own error, a limit, or a result that is not JSON. `line` when the engine knows it. */
export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  constructor(
    message: string,
    readonly line?: number,
    /** A limit was passed: the context is discarded, since its state is unknown. */
    readonly limit?: 'time' | 'memory',
  ) {
    super(message);
  }
}

let wasm: Promise<QuickJSWASMModule> | undefined;

/**
 * The release build's loader, required rather than imported: the package's own loader is a dynamic
 * `import()`, which a CommonJS host without ES module support in its VM (jest) cannot run.
 */
const VARIANT: QuickJSSyncVariant = {
  ...RELEASE_SYNC,
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  importModuleLoader: async () => require('@jitl/quickjs-wasmfile-release-sync/emscripten-module') as Awaited<ReturnType<QuickJSSyncVariant['importModuleLoader']>>,
};

/** The WebAssembly module, loaded once per process (about 20 ms). */
export function loadSandbox(): Promise<QuickJSWASMModule> {
  wasm ??= newQuickJSWASMModuleFromVariant(VARIANT);
  return wasm;
}

interface EngineError {
  name?: string;
  message?: string;
  lineNumber?: number;
}

function sandboxError(dumped: unknown): SandboxError {
  const e = (typeof dumped === 'object' && dumped !== null ? dumped : { message: String(dumped) }) as EngineError;
  const message = e.message ?? String(dumped);
  const limit = e.name === 'InternalError' && message === 'interrupted' ? 'time' : e.name === 'InternalError' && message === 'out of memory' ? 'memory' : undefined;
  const text = limit === 'time' ? 'time limit exceeded' : limit === 'memory' ? 'memory limit exceeded' : `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${message}`;
  return new SandboxError(text, typeof e.lineNumber === 'number' ? e.lineNumber : undefined, limit);
}

/**
 * One version of a webhook's code, compiled once into a runtime of its own and called per attempt:
 * `handler` gets its input and returns its result as JSON text, through copies of JSON taken
 * before the code ran (code that replaces JSON changes only its own view of it).
 */
export class CompiledCode {
  private constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly context: QuickJSContext,
    private readonly call: QuickJSHandle,
    private readonly limits: SandboxLimits,
  ) {}

  /** Compiles `code`, which must define `function handler(webhook)`. Throws `SandboxError` (a syntax error with its line). */
  static compile(quickjs: QuickJSWASMModule, code: string, limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS): CompiledCode {
    const runtime = quickjs.newRuntime();
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(STACK_BYTES);
    const context = runtime.newContext();
    try {
      const evaluate = (source: string, file: string): QuickJSHandle => {
        runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + limits.compileMs));
        const result = context.evalCode(source, file);
        if (result.error) {
          const error = sandboxError(context.dump(result.error));
          result.error.dispose();
          throw error;
        }
        return result.value;
      };
      evaluate('const __transformation_json = { parse: JSON.parse, stringify: JSON.stringify };', 'prelude.js').dispose();
      evaluate(code, FILE_NAME).dispose();
      const kind = evaluate('typeof handler', 'check.js');
      const type = context.getString(kind);
      kind.dispose();
      if (type !== 'function') throw new SandboxError('the code must define function handler(webhook)');
      const call = evaluate(
        `(function (input) {
          const result = handler(__transformation_json.parse(input));
          if (result && typeof result.then === 'function') throw new TypeError('handler must return its result, not a promise');
          return __transformation_json.stringify(result === undefined ? null : result);
        })`,
        'call.js',
      );
      return new CompiledCode(runtime, context, call, limits);
    } catch (err) {
      context.dispose();
      runtime.dispose();
      throw err;
    }
  }

  /** Calls `handler` with `input` (JSON text); its result as JSON text. Throws `SandboxError`. */
  run(input: string): string {
    this.runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + this.limits.callMs));
    const arg = this.context.newString(input);
    const result = this.context.callFunction(this.call, this.context.undefined, arg);
    arg.dispose();
    if (result.error) {
      const error = sandboxError(this.context.dump(result.error));
      result.error.dispose();
      throw error;
    }
    const text = this.context.typeof(result.value) === 'string' ? this.context.getString(result.value) : undefined;
    result.value.dispose();
    if (text === undefined) throw new SandboxError('handler returned a value that is not JSON (a function or undefined)');
    return text;
  }

  dispose(): void {
    this.call.dispose();
    this.context.dispose();
    this.runtime.dispose();
  }
}
