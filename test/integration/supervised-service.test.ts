import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/embedded/ports';
import { processAlive } from '../../src/embedded/service-process';
import { SupervisedService } from '../../src/embedded/supervised-service';
import { eventually } from '../support/stack';

/** `npm start` keeps every process it started running: a process that dies is started again. */
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

  it('kills what a dead process left in its group, runs beforeRestart, then starts it again', async () => {
    // The leader starts a child in its group, as a server starts helpers.
    const script = "require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); setInterval(() => {}, 1000)";
    const events: string[] = [];
    let orphan = 0;
    const service = new SupervisedService({
      name: 'leader',
      command: node,
      args: ['-e', script],
      processGroup: true,
      initialBackoffMs: 50,
      beforeRestart: () => void events.push(`beforeRestart, orphan ${processAlive(orphan) ? 'alive' : 'gone'}`),
      onRestarted: () => void events.push('restarted'),
    });
    try {
      const first = service.process;
      // `ps` exits 1 while the leader has no child yet.
      const children = () => spawnSync('ps', ['-o', 'pid=', '--ppid', String(first.pid)], { encoding: 'utf8' }).stdout.trim();
      orphan = await eventually(() => (children() ? Number(children().split('\n')[0]) : undefined), 10_000, 'the child');
      process.kill(first.pid!, 'SIGKILL'); // the leader only: its child stays, in its group
      await eventually(() => (events.includes('restarted') ? true : undefined), 10_000, 'the restart');
      expect(events).toEqual(['beforeRestart, orphan gone', 'restarted']);
      expect(service.process.running).toBe(true);
    } finally {
      await service.stop();
    }
  });

  it('waits for a port through a restart when the first process dies before it listens', async () => {
    // The first start dies at once (as a Temporal dev server once did in CI); the second listens.
    const dir = mkdtempSync(join(tmpdir(), 'supervised-'));
    const port = await freePort();
    const script = `const fs = require('fs'); const marker = ${JSON.stringify(join(dir, 'started'))};
      if (!fs.existsSync(marker)) { fs.writeFileSync(marker, ''); process.exit(1); }
      require('net').createServer().listen(${port}, '127.0.0.1');`;
    const service = new SupervisedService({ name: 'late listener', command: node, args: ['-e', script], initialBackoffMs: 300 });
    try {
      const first = service.process;
      await service.waitForPort(port, 10_000);
      expect(service.restarts).toBe(1);
      expect(service.process).not.toBe(first);
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on the port at the first exit of a service that is not restarted, quoting the end of its log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quitter-'));
    const logFile = join(dir, 'quitter.log');
    const service = new SupervisedService({ name: 'quitter', command: node, args: ['-e', 'console.error("bind: address already in use"); process.exit(1)'], restart: false, logFile });
    try {
      const port = await freePort();
      await expect(service.waitForPort(port, 10_000)).rejects.toThrow(`quitter exited before listening on 127.0.0.1:${port} (see ${logFile}; it ends:\nbind: address already in use)`);
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('restart: false leaves a dead process down', async () => {
    const service = new SupervisedService({ name: 'once', command: node, args: ['-e', 'process.exit(0)'], restart: false, initialBackoffMs: 10 });
    const first = service.process;
    await first.exited;
    await new Promise((r) => setTimeout(r, 200));
    expect({ restarts: service.restarts, same: service.process === first }).toEqual({ restarts: 0, same: true });
    await service.stop();
  });
});
