// devctl graph [--format text|mermaid] [--json]: who waits on whom (depends_on), each service's state
// and its last launch-to-healthy time, and the critical chain of the last start. Exit 0 whatever
// the stack's state (it is a picture, not a verdict); 1 when PM2 cannot be read; 2 on bad usage.
import { loadEcosystem } from '../ecosystem/index';

export type GraphFormat = 'text' | 'mermaid';

export interface GraphOptions {
  format: GraphFormat;
  json: boolean;
}

export async function runGraph(options: GraphOptions): Promise<void> {
  const { collectGraph, renderGraphMermaid, renderGraphText } = await import('../graph/index');
  const report = await collectGraph(loadEcosystem());
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else if (options.format === 'mermaid') process.stdout.write(renderGraphMermaid(report));
  else process.stdout.write(renderGraphText(report, report.namespace, report.daemon));
}
