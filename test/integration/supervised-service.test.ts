import { SupervisedService } from '../../src/embedded/supervised-service';

/** `npm start` keeps the API and the worker running: a process that dies is started again. */
describe('supervised services', () => {
  const node = process.execPath;

  it('restarts a process killed with SIGKILL, and stops for good when told', async () => {
    const service = new SupervisedService({ name: 'sleeper', command: node, args: ['-e', 'setInterval(() => {}, 1000)'], initialBackoffMs: 50 });
    try {
      const first = service.process;
      process.kill(first.pid!, 'SIGKILL');
      await first.exited;
      const deadline = Date.now() + 10_000;
      while (service.process === first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(service.restarts).toBe(1);
      expect(service.process.pid).not.toBe(first.pid);
      expect(service.process.running).toBe(true);
    } finally {
      await service.stop();
    }
    const stopped = service.process;
    expect(stopped.running).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(service.process).toBe(stopped); // no restart after stop()
  });

  it('backs off, doubling, while the process keeps crashing at start', async () => {
    const waits: number[] = [];
    const service = new SupervisedService({
      name: 'crasher',
      command: node,
      args: ['-e', 'process.exit(3)'],
      initialBackoffMs: 20,
      maxBackoffMs: 80,
      onRestart: (code, backoffMs) => {
        expect(code).toBe(3);
        waits.push(backoffMs);
      },
    });
    const deadline = Date.now() + 20_000;
    while (waits.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await service.stop();
    expect(waits.slice(0, 5)).toEqual([20, 40, 80, 80, 80]);
  });
});
