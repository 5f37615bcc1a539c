import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/config';
import { sealPlaintextHeaders } from '../crypto/seal-plaintext-headers';
import { SecretBox } from '../crypto/secret-box';
import { httpClientFromConfig } from '../delivery/http-client';
import { createLogger } from '../logging/logger';
import { connectMongo } from '../models';
import { runMain } from '../run-main';
import { createApp } from './app';
import { answerClientErrors } from './client-errors';

runMain('api', async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'api');
  const { conn, models } = await connectMongo(config.mongodbUri);
  const secretBox = new SecretBox(config.secretsKeyId, config.secretsKey);
  // Sensitive custom header values an earlier version stored in the clear (attempts send them either way).
  const sealed = await sealPlaintextHeaders(models.Webhook.collection, secretBox);
  if (sealed > 0) logger.info({ webhooks: sealed }, 'sealed sensitive custom header values stored in the clear');
  // Lazy: the API starts and answers 503 while Temporal is unreachable, instead of refusing to start.
  const connection = Connection.lazy({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });

  // Only for POST /v1/webhooks/{id}/test, and for its SSRF guard on webhook URLs.
  const http = httpClientFromConfig(config);
  const app = createApp({
    models,
    mongo: conn,
    temporal,
    temporalConnection: connection,
    taskQueue: config.temporal.taskQueue,
    secretBox,
    logger,
    adminToken: config.adminToken,
    bodyLimitBytes: config.bodyLimitBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    metricsToken: config.metricsToken,
    http,
    defaultTimeoutSeconds: config.deliveryTimeoutSeconds,
    secretRotationOverlapSeconds: config.secretRotationOverlapSeconds,
    rateLimit: config.rateLimit,
    apiKeyCacheMs: config.apiKeyCacheMs,
    portal: config.portal,
  });
  const server = app.listen(config.port, config.host);
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${config.port} is already in use: set PORT to a free port`) : err),
    );
  });
  logger.info({ url: `http://${config.host}:${config.port}` }, 'api listening');

  const shutdown = () => {
    logger.info('shutting down');
    server.close(async () => {
      await connection.close();
      await http.close();
      await conn.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
});
