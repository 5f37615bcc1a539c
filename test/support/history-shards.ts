import { createRequire } from 'node:module';
import { Connection } from '@temporalio/client';

/**
 * Which history process of a Temporal cluster owns which shards, asked of the frontend's admin
 * service (`DescribeHistoryHost`, the call behind `tdbg history-host describe`). The SDK has no
 * client for that service: its two messages are declared here, and the call goes over the
 * connection's own gRPC channel.
 */
const protoRequire = createRequire(require.resolve('@temporalio/proto'));
const protobuf = protoRequire('protobufjs') as {
  parse(source: string): { root: { lookupType(name: string): ProtoType } };
};
interface ProtoType {
  fromObject(object: object): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: { defaults: boolean }): object;
}

// From go.temporal.io/server v1.30.9, proto/internal/temporal/server/api/adminservice/v1/request_response.proto
// (the response's namespace cache, field 3, left out: decoding skips it).
const { root } = protobuf.parse(`syntax = "proto3";
message WorkflowExecution { string workflow_id = 1; string run_id = 2; }
message DescribeHistoryHostRequest { string host_address = 1; int32 shard_id = 2; string namespace = 3; WorkflowExecution workflow_execution = 4; }
message DescribeHistoryHostResponse { int32 shards_number = 1; repeated int32 shard_ids = 2; string address = 5; }`);
const Request = root.lookupType('DescribeHistoryHostRequest');
const Response = root.lookupType('DescribeHistoryHostResponse');

export interface HistoryHost {
  /** The host's identity, `127.0.0.1:<its gRPC port>`. */
  address: string;
  shardIds: number[];
}

export class AdminConnection extends Connection {
  static async open(address: string): Promise<AdminConnection> {
    return (await AdminConnection.connect({ address })) as AdminConnection;
  }

  /** The history host at `hostAddress` (127.0.0.1:<gRPC port>) and the shards it owns now. */
  historyHost(hostAddress: string): Promise<HistoryHost> {
    return this.describeHistoryHost({ hostAddress });
  }

  /** The history host that owns the shard of a workflow. */
  ownerOf(namespace: string, workflowId: string): Promise<HistoryHost> {
    return this.describeHistoryHost({ namespace, workflowExecution: { workflowId } });
  }

  private describeHistoryHost(request: object): Promise<HistoryHost> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        '/temporal.server.api.adminservice.v1.AdminService/DescribeHistoryHost',
        (message: object) => Buffer.from(Request.encode(Request.fromObject(message)).finish()),
        (bytes: Buffer) => Response.toObject(Response.decode(bytes), { defaults: true }) as HistoryHost,
        request,
        { deadline: Date.now() + 10_000 },
        (err, value) => (err || !value ? reject(err ?? new Error('no answer')) : resolve({ address: value.address, shardIds: [...value.shardIds].sort((a, b) => a - b) })),
      );
    });
  }
}
