import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { startMongoWireServer, type RunningMongo } from '../../src/embedded/mongo-wire-server';
import { freePort } from '../../src/embedded/ports';
import { connectMongo } from '../../src/models';

/**
 * The embedded database (FerretDB on PostgreSQL) crashes in the middle of a burst of webhook
 * writes: both processes get SIGKILL, no shutdown. Started again on the same files, it has
 * every write it acknowledged.
 */
describe('embedded database durability', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'db-crash-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user under root
  let mongo: RunningMongo | undefined;
  afterAll(async () => {
    await mongo?.process.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async () => startMongoWireServer({ port: await freePort(), dataDir, logFile: join(dataDir, 'ferretdb.log'), tools: process.env });

  it('keeps every acknowledged write across SIGKILL of FerretDB and PostgreSQL', async () => {
    mongo = await start();
    const { conn, models } = await connectMongo(mongo.uri('crash'));
    const acknowledged: string[] = [];
    let attempted = 0;
    const secret = { keyId: 'k1', iv: 'iv', tag: 'tag', ciphertext: 'ct' };

    // 16 writers, each writing one webhook at a time until the database goes away.
    const writers = Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; i < 10_000; i++) {
        const id = `wh_${w}_${i}`;
        attempted++;
        try {
          await models.Webhook.create({ _id: id, tenantId: 'ten_1', url: 'https://r.example/', events: ['*'], timeoutSeconds: 10, secret });
          acknowledged.push(id);
        } catch {
          return; // the crash: this write was never acknowledged
        }
      }
    });
    const running = mongo;
    const crash = (async () => {
      while (acknowledged.length < 200) await new Promise((r) => setTimeout(r, 20));
      running.ferretdb.kill('SIGKILL');
      running.postgres.kill('SIGKILL');
      await Promise.all([running.ferretdb.exited, running.postgres.exited]);
    })();
    await Promise.all([crash, ...writers]);
    await conn.close(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);

    mongo = await start();
    const again = await mongoose.createConnection(mongo.uri('crash')).asPromise();
    try {
      const found = new Set((await again.collection('webhooks').find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
      const lost = acknowledged.filter((id) => !found.has(id));
      expect(lost).toEqual([]);
      // Nothing appears that was never attempted.
      expect(found.size).toBeLessThanOrEqual(attempted);
    } finally {
      await again.close();
    }
  }, 180_000);
});
