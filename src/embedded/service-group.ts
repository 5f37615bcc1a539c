/** Services stopped together, in order. */
export class ServiceGroup {
  constructor(readonly members: { stop(graceMs?: number): Promise<void> }[]) {}

  async stop(graceMs?: number): Promise<void> {
    for (const member of this.members) await member.stop(graceMs);
  }
}
