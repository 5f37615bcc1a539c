import { Harness, type HarnessOptions } from './harness';
import { TestReceiver } from './receiver';

export interface UseHarnessOptions extends HarnessOptions {
  /** How many test receivers to start next to the harness. @default 0 */
  receivers?: number;
}

/** What `useHarness` started; the fields are set in its beforeAll, so read them in hooks and tests only. */
export class HarnessContext {
  harness!: Harness;
  readonly receivers: TestReceiver[] = [];

  /** The first receiver. */
  get receiver(): TestReceiver {
    const first = this.receivers[0];
    if (!first) throw new Error('no receiver: ask useHarness for `receivers: 1` and read it in a hook or test');
    return first;
  }
}

/**
 * Starts a Harness (then `receivers` TestReceivers) before all tests of the enclosing describe
 * block and closes them after, so that each suite does not repeat the same beforeAll/afterAll.
 * Call it before the suite's own beforeAll hooks: those run after it and can use what it started.
 */
export function useHarness({ receivers = 0, ...options }: UseHarnessOptions = {}): HarnessContext {
  const ctx = new HarnessContext();
  beforeAll(async () => {
    ctx.harness = await Harness.start(options);
    for (let i = 0; i < receivers; i++) ctx.receivers.push(await new TestReceiver().start());
  });
  afterAll(async () => {
    await ctx.harness?.close();
    for (const receiver of ctx.receivers) await receiver.stop();
  });
  return ctx;
}
