// First: with tracing on, the HTTP instrumentation must see `http` load.
import { apiTracing } from './api-tracing';
import { createServer } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/config';
import { sealPlaintextHeaders } from '../crypto/seal-plaintext-headers';
import { SecretBox } from '../crypto/secret-box';
import { httpClientFromConfig } from '../delivery/http-client';
import { createLogger } from '../logging/logger';
import { connectWhenReachable } from '../models/connect-when-reachable';
import { runMain } from '../run-main';
import { createApp } from './app';
import { answerClientErrors } from './client-errors';
import { startingUp } from './starting-up';

runMain('api', async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'api', apiTracing?.logFields);
  // Listening before the database answers: a restart during its outage answers 503, not a refused connection.
  const server = createServer(startingUp);
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${config.port} is already in use: set PORT to a free port`) : err),
    );
    server.listen(config.port, config.host);
  });
  const stopping = new AbortController();
  const stopWhileStarting = () => {
    stopping.abort();
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', stopWhileStarting);
  process.once('SIGINT', stopWhileStarting);
  const { conn, models } = await connectWhenReachable(config.mongodbUri, logger, stopping.signal);
  const secretBox = new SecretBox(config.secretsKeyId, config.secretsKey);
  // Sensitive custom header values an earlier version stored in the clear (attempts send them either way).
  // Best effort: a database that went away again must not stop the start; the next start or edit seals them.
  await sealPlaintextHeaders(models.Webhook.collection, secretBox).then(
    (sealed) => sealed > 0 && logger.info({ webhooks: sealed }, 'sealed sensitive custom header values stored in the clear'),
    (err: Error) => logger.warn({ error: err.message }, 'sensitive custom header values stored in the clear not sealed yet'),
  );
  // Lazy: the API starts and answers 503 while Temporal is unreachable, instead of refusing to start.
  const connection = Connection.lazy({ address: config.temporal.address });
  // Traced: each start's span context travels in the workflow's headers, so one trace runs from the request to every attempt.
  const temporal = new Client({ connection, namespace: config.temporal.namespace, interceptors: apiTracing?.clientInterceptors });

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
  server.removeListener('request', startingUp);
  server.on('request', app);
  process.removeListener('SIGTERM', stopWhileStarting);
  process.removeListener('SIGINT', stopWhileStarting);
  logger.info({ url: `http://${config.host}:${config.port}` }, 'api listening');

  const shutdown = () => {
    logger.info('shutting down');
    server.close(async () => {
      await connection.close();
      await http.close();
      await conn.close();
      await apiTracing?.shutdown();
      process.exit(0);
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
});
