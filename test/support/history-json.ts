import { createRequire } from 'node:module';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import type { History } from '@temporalio/common/lib/proto-utils';

/**
 * Reads a history in the JSON form the CLI and Web UI download. `historyFromJSON` of
 * @temporalio/common cannot be used here: the lock file holds separate copies of protobufjs for
 * @temporalio/common and @temporalio/proto, and its `instanceof Type` check fails across them.
 * This parses with the protobufjs copy that @temporalio/proto's types belong to.
 */
const protoRequire = createRequire(require.resolve('@temporalio/proto'));
const { fromJson } = protoRequire('protobufjs/ext/protojson') as { fromJson: (type: unknown, json: unknown, options: unknown) => unknown };
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyFromCliJson(json: unknown): History {
  return fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}
