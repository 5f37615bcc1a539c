import { transformationRuns } from '../metrics/metrics';
import { DEFAULT_SANDBOX_LIMITS, SandboxError, type SandboxLimits } from './sandbox';
import { SandboxHost } from './sandbox-host';
import { codeVersion, TRANSFORMED_BODY_MAX_BYTES, transformationOutput, type TransformationInput } from './transformation';

/** What a transformation made of a request: `version` is its code's, as the attempt log records it. */
export type Transformed =
  | { kind: 'send'; version: string; url: string; method: 'POST' | 'PUT'; headers: Record<string, string>; body: string }
  | { kind: 'cancel'; version: string }
  | { kind: 'failed'; version: string; message: string };

/**
 * The transformations of one process (worker or API), run in its sandbox thread, where each
 * version of a webhook's code is compiled once and kept (code that does not compile is kept as
 * its error, so no attempt compiles it again). The result is checked here.
 */
export class Transformations {
  private readonly host: SandboxHost;

  constructor(limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS) {
    this.host = new SandboxHost(limits);
  }

  /** Runs `code`'s handler over `input`: the request to send, none (canceled), or why it failed. */
  async run(code: string, input: TransformationInput): Promise<Transformed> {
    const version = codeVersion(code);
    const result = await this.host.call({ kind: 'run', version, code, input: JSON.stringify(input) }).then(
      (json): Transformed => {
        try {
          const output = transformationOutput(json);
          if (output.cancel) return { kind: 'cancel', version };
          const body = JSON.stringify(output.payload);
          if (Buffer.byteLength(body) > TRANSFORMED_BODY_MAX_BYTES) return { kind: 'failed', version, message: `the payload is over ${TRANSFORMED_BODY_MAX_BYTES} bytes` };
          return { kind: 'send', version, url: output.url, method: output.method, headers: output.headers, body };
        } catch (err) {
          return { kind: 'failed', version, message: (err as Error).message };
        }
      },
      (err: SandboxError): Transformed => ({ kind: 'failed', version, message: err.message }),
    );
    transformationRuns.inc({ result: result.kind === 'send' ? 'sent' : result.kind === 'cancel' ? 'canceled' : 'failed' });
    return result;
  }

  /** Checks code before it is saved: it compiles and defines `handler`. Throws `SandboxError`, whose `line` locates a syntax error. */
  async check(code: string): Promise<void> {
    await this.host.call({ kind: 'check', code });
  }

  async close(): Promise<void> {
    await this.host.close();
  }
}
