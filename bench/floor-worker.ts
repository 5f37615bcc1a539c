/**
 * The bench-only worker process for the Temporal floor (floor-workflows.ts): its own task queue
 * on the bench's dev server, the SDK's default concurrency like the product's worker. Stops on
 * SIGTERM/SIGINT once in-flight tasks are done.
 */
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { floorActivities } from './floor-activities';

async function main(): Promise<void> {
  const { TEMPORAL_ADDRESS, BENCH_FLOOR_TASK_QUEUE } = process.env;
  if (!TEMPORAL_ADDRESS || !BENCH_FLOOR_TASK_QUEUE) throw new Error('TEMPORAL_ADDRESS and BENCH_FLOOR_TASK_QUEUE are required');
  Runtime.install({ telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } } });
  const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({
      connection,
      taskQueue: BENCH_FLOOR_TASK_QUEUE,
      workflowsPath: require.resolve('./floor-workflows'),
      activities: floorActivities,
    });
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`floor worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
