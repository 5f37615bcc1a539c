/**
 * The Web UI renders workflow and activity summaries and details as markdown (with typography:
 * `--` becomes an en dash), so an id such as `wh_OdCU--_x` would be shown, and copied, wrong.
 * Ids go into those texts as code spans, which markdown shows literally. Pure: workflows use it.
 */
export function literal(text: string): string {
  // A fence longer than any run of backticks inside, padded when the text starts or ends with one.
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}
