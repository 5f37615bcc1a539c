import type { Collection } from 'mongoose';
import type { SecretBox } from './secret-box';
import { hasPlaintextSensitive, sealPlaintext, type StoredHeader } from './sealed-headers';

/**
 * Seals the sensitive custom header values that versions before sealing stored in the clear,
 * once, at the API's start. Each write is conditional on the document being unchanged since it
 * was read (an edit in between stored its headers sealed already), so two API processes starting
 * together write nothing twice. Returns how many webhooks were sealed.
 */
export async function sealPlaintextHeaders(webhooks: Collection, box: SecretBox): Promise<number> {
  const found = await webhooks.find({ 'headers.0': { $exists: true } }, { projection: { headers: 1, updatedAt: 1 } }).toArray();
  let sealed = 0;
  for (const doc of found) {
    const headers = (doc.headers ?? []) as StoredHeader[];
    if (!hasPlaintextSensitive(headers)) continue;
    const result = await webhooks.updateOne({ _id: doc._id, updatedAt: doc.updatedAt }, { $set: { headers: sealPlaintext(headers, box) } });
    sealed += result.modifiedCount;
  }
  return sealed;
}
