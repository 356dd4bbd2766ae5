import type { Command } from 'commander';
import { apiClientFor, reportFailure, type ApiResponse } from './api-client';

interface TaskLine {
  sku: string;
  abcClass: string;
  status: string;
  countedBy: string | null;
  recountedBy: string | null;
}
interface Task {
  id: number;
  location: string;
  day: string;
  status: string;
  lines: TaskLine[];
}

function report<T>(response: ApiResponse, print: (body: T) => void): void {
  if (response.status !== 200) return reportFailure(response);
  print(response.body as T);
}

const lineText = (l: TaskLine) =>
  `  ${l.sku} (${l.abcClass}) ${l.status === 'recount' ? `recount by someone other than ${l.countedBy}` : l.status.replace('_', ' ')}`;
/** A task as a counter reads it: what to count and where, never what the system expects. */
const taskText = (t: Task) => [`#${t.id} ${t.location} ${t.day} ${t.status}: ${t.lines.length} SKU(s)`, ...t.lines.map(lineText)].join('\n');

/** `SKU=counted`, as a counter types a figure. */
function figure(text: string, figures: { sku: string; counted: number }[] = []) {
  const match = /^(.+)=(\d+)$/.exec(text);
  if (!match) throw new Error(`${text}: must be <sku>=<counted>, e.g. TEE-S=12`);
  return [...figures, { sku: match[1], counted: Number(match[2]) }];
}

/** `stockflow counts abc|tasks|show|submit`: the counting programme. */
export function registerCountCommands(program: Command): void {
  const counts = program.command('counts').description('the counting programme: ABC classes, count tasks, blind counts');
  counts
    .command('abc')
    .description('ABC classes by revenue; --recompute computes them now')
    .option('--recompute', 'recompute the classes now instead of showing the stored ones')
    .option('--class <class>', 'only A, B or C')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (options: { recompute?: boolean; class?: string; api?: string }) => {
      const api = apiClientFor(options);
      if (options.recompute) {
        return report(await api.post('/v1/counting/abc', {}, 'operator'), (run: { computedAt: string; windowDays: number; classes: Record<string, number> }) =>
          console.log(`computed ${run.computedAt} over ${run.windowDays} days: A ${run.classes.A}, B ${run.classes.B}, C ${run.classes.C}`),
        );
      }
      const query = options.class ? `?abcClass=${encodeURIComponent(options.class)}` : '';
      report(await api.get(`/v1/counting/abc${query}`), (rows: { sku: string; abcClass: string; revenue: number; rank: number }[]) =>
        console.log(rows.map((r) => `${r.abcClass} #${r.rank} ${r.sku} ${r.revenue.toFixed(2)}`).join('\n') || 'no classes computed yet'),
      );
    });
  counts
    .command('tasks')
    .description('count tasks, one per location and working day')
    .option('--day <YYYY-MM-DD>', 'only this day')
    .option('--location <code>', 'only this location')
    .option('--status <status>', 'open or done')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (options: { day?: string; location?: string; status?: string; api?: string }) => {
      const params = new URLSearchParams(Object.entries({ day: options.day, location: options.location, status: options.status }).filter((e): e is [string, string] => e[1] !== undefined));
      const query = params.size > 0 ? `?${params}` : '';
      report(await apiClientFor(options).get(`/v1/count-tasks${query}`), (tasks: Task[]) =>
        console.log(tasks.map((t) => `#${t.id} ${t.location} ${t.day} ${t.status}: ${t.lines.length} SKU(s)`).join('\n') || 'no count tasks'),
      );
    });
  counts
    .command('show')
    .description('what to count on a task (blind: no expected figures)')
    .argument('<id>', 'the count task id')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (id: string, options: { api?: string }) => {
      report(await apiClientFor(options).get(`/v1/count-tasks/${encodeURIComponent(id)}`), (t: Task) => console.log(taskText(t)));
    });
  counts
    .command('submit')
    .description('submit counted figures as yourself: SKU=counted, one or more')
    .argument('<id>', 'the count task id')
    .argument('<figures...>', 'SKU=counted')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (id: string, figures: string[], options: { api?: string }) => {
      const lines = figures.reduce<{ sku: string; counted: number }[]>((all, text) => figure(text, all), []);
      report(await apiClientFor(options).post(`/v1/count-tasks/${encodeURIComponent(id)}/results`, { lines }, 'operator'), (r: { task: Task; lines: { sku: string; result: string; outcome?: string }[] }) =>
        console.log([...r.lines.map((l) => `${l.sku}: ${l.result === 'posted' ? `posted (${l.outcome})` : 'over tolerance: a recount by someone else is needed'}`), taskText(r.task)].join('\n')),
      );
    });
}
