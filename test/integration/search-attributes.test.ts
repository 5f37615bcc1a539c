import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../../src/temporal/ensure-search-attributes';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { eventually, testStack, uniqueName } from '../support/stack';

describe('custom search attributes', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: testStack().temporalAddress });
  });
  afterAll(() => connection?.close());

  it('are registered by the embedded dev server', async () => {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)));
  });

  it('are added by the worker to a namespace that lacks them, once', async () => {
    const namespace = uniqueName('ns');
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(86_400_000) });
    await eventually(() => connection.workflowService.describeNamespace({ namespace }).then(() => true).catch(() => undefined), 30_000, 'the namespace');

    expect((await ensureSearchAttributes(connection, namespace)).sort()).toEqual(Object.keys(SEARCH_ATTRIBUTES).sort());
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)));
    expect(await ensureSearchAttributes(connection, namespace)).toEqual([]);
  });

  it('the embedded namespace keeps histories for 30 days', async () => {
    const { config } = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 24 * 3600);
  });
});
