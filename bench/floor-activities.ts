/** The floor's no-op work: a local activity that returns at once (see floor-workflows.ts). */
export const floorActivities = {
  async noop(index: number): Promise<number> {
    return index;
  },
};
