import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import mongoose from 'mongoose';
import { startMongoWireServer } from '../../src/embedded/mongo-wire-server';
import { assertPortFree, freePort, PortInUseError } from '../../src/embedded/ports';
import { startTemporalDevServer } from '../../src/embedded/temporal-dev-server';

/** What `npm start` does with DATA_DIR, at a smaller scale: state must survive a restart. */
describe('the embedded default keeps its data across restarts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'embedded-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user under root
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function startBoth() {
    const [port, uiPort, mongoPort] = [await freePort(), await freePort(), await freePort()];
    const temporal = await startTemporalDevServer({
      cli: process.env.TEMPORAL_CLI as string,
      port,
      uiPort,
      dbFile: join(dataDir, 'temporal.db'),
      namespace: 'default',
      logFile: join(dataDir, 'temporal.log'),
    });
    const mongo = await startMongoWireServer({ port: mongoPort, dataDir: join(dataDir, 'mongo'), logFile: join(dataDir, 'mongo.log'), tools: process.env });
    return { temporal, mongo };
  }

  it('finds the workflows and documents of the previous run', async () => {
    const first = await startBoth();
    try {
      const ui = await fetch(first.temporal.uiUrl as string);
      expect(ui.status).toBe(200);
      const connection = await Connection.connect({ address: first.temporal.address });
      // No worker polls this queue: the workflow stays running, recorded in the SQLite file.
      await new Client({ connection }).workflow.start('NoSuchWorkflow', { taskQueue: 'nobody', workflowId: 'survivor', args: [] });
      await connection.close();
      const conn = await mongoose.createConnection(first.mongo.uri('persist')).asPromise();
      await conn.collection('things').insertOne({ _id: 'kept' as never, value: 42 });
      await conn.close();
    } finally {
      await first.temporal.process.stop();
      await first.mongo.process.stop();
    }

    const second = await startBoth();
    try {
      const connection = await Connection.connect({ address: second.temporal.address });
      const description = await new Client({ connection }).workflow.getHandle('survivor').describe();
      expect(description.status.name).toBe('RUNNING');
      await connection.close();
      const conn = await mongoose.createConnection(second.mongo.uri('persist')).asPromise();
      expect(await conn.collection('things').findOne({ _id: 'kept' as never })).toEqual({ _id: 'kept', value: 42 });
      await conn.close();
    } finally {
      await second.temporal.process.stop();
      await second.mongo.process.stop();
    }
  });
});

describe('ports', () => {
  it('a free port is chosen below the ephemeral range, where no outgoing connection can take it', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) expect(port >= 10_000 && port < low).toBe(true);
  });

  it('a port in use gives a message naming the setting to change', async () => {
    const server = createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    try {
      await expect(assertPortFree(port, 'TEMPORAL_PORT')).rejects.toThrow(PortInUseError);
      await expect(assertPortFree(port, 'TEMPORAL_PORT')).rejects.toThrow(`port ${port} is already in use (TEMPORAL_PORT)`);
    } finally {
      server.close();
    }
    await expect(assertPortFree(port, 'TEMPORAL_PORT')).resolves.toBeUndefined();
  });
});
