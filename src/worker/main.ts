import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { SecretBox } from '../crypto/secret-box';
import { WebhookHttpClient } from '../delivery/http-client';
import { userAgent } from '../delivery/user-agent';
import { createLogger } from '../logging/logger';
import { connectMongo } from '../models';
import { createWorker } from './create-worker';
import { runMain } from '../run-main';

runMain('worker', async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'worker');
  Runtime.install({ telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } } });

  const { conn, models } = await connectMongo(config.mongodbUri);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const http = new WebhookHttpClient({
    allowHttp: config.webhookAllowHttp,
    allowedCidrs: config.webhookAllowedCidrs,
    userAgent: userAgent(),
    connectTimeoutMs: config.deliveryConnectTimeoutMs,
  });
  try {
    const worker = await createWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      deps: {
        models,
        secretBox: new SecretBox(config.secretsKeyId, config.secretsKey),
        http,
        retryAfterMaxMs: config.retryAfterMaxMs,
        autoDisable: config.autoDisable,
      },
    });
    logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker started');
    await worker.run(); // returns after SIGINT/SIGTERM, once in-flight tasks are done
  } finally {
    await connection.close();
    await http.close();
    await conn.close();
  }
});
