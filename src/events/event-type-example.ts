/**
 * An example of what a receiver gets for an event type, shown next to the type in the catalogue
 * (and in the portal's webhook form), so a customer can write a handler before the first event.
 * The data is illustrative: producers define their own; built by the type's family.
 */
const FAMILY_DATA: Record<string, Record<string, unknown>> = {
  invoice: { invoiceId: 'inv_1001', customerId: 'cus_42', amount: 4200, currency: 'EUR', status: 'open' },
  payment: { paymentId: 'pay_7001', invoiceId: 'inv_1001', amount: 4200, currency: 'EUR', method: 'card' },
  subscription: { subscriptionId: 'sub_301', customerId: 'cus_42', plan: 'pro', quantity: 3, currentPeriodEnd: '2026-12-31T23:59:59Z' },
  customer: { customerId: 'cus_42', name: 'Ada Lovelace', email: 'ada@example.com' },
  user: { userId: 'usr_12', email: 'ada@example.com', name: 'Ada Lovelace' },
  ticket: { ticketId: 'tkt_88', subject: 'Cannot export invoices', status: 'open', priority: 'high', assignee: 'usr_12' },
  email: { messageId: 'msg_5501', to: 'ada@example.com', subject: 'Your invoice inv_1001' },
  file: { fileId: 'file_77', name: 'report.pdf', sizeBytes: 48213, contentType: 'application/pdf' },
  import: { importId: 'imp_19', source: 'customers.csv', rows: 1250 },
  export: { exportId: 'exp_23', format: 'csv', rows: 980, downloadUrl: 'https://example.com/exports/exp_23.csv' },
  compliance: { requestId: 'dsr_61', subjectEmail: 'ada@example.com', dueBy: '2026-12-30T00:00:00Z' },
  usage: { meter: 'api_calls', customerId: 'cus_42', quantity: 10000, limit: 10000, period: '2026-11' },
  api_key: { apiKeyId: 'key_9', name: 'CI deploys', expiresAt: '2027-01-01T00:00:00Z' },
  device: { deviceId: 'dev_314', model: 'Sensor S2', firmware: '2.4.1' },
  alert: { alertId: 'alr_404', rule: 'error rate > 5%', severity: 'critical', value: 7.2 },
  webhook: { webhookId: 'wh_example', reason: 'the receiver answered 410 Gone', disabledAt: '2026-11-30T10:00:00.000Z' },
  delivery: { deliveryId: 'dlv_example', eventId: 'evt_example', eventType: 'invoice.created', webhookId: 'wh_example', outcome: 'exhausted', attempts: 6, lastError: 'HTTP 503' },
};

/** The body a receiver gets for `type` (envelope as in API.md, illustrative data). */
export function exampleEvent(type: string, tenantId: string): Record<string, unknown> {
  const family = type.split('.')[0];
  const data = type === 'webhook.test' ? { webhookId: 'wh_example', message: 'This is a test event.' } : (FAMILY_DATA[family] ?? { id: 'obj_1' });
  return { id: 'evt_example', type, timestamp: '2026-11-30T10:00:00.000Z', tenant_id: tenantId, data, metadata: {} };
}
