import { readFileSync } from 'node:fs';
import { formatIssues } from '../schemas/issues';
import { SourceSecrets } from '../schemas/identity';

/**
 * Reads the per-source secrets file. Its errors name the file and the entry, never a value: the
 * message ends up in logs, and a JSON parser's message quotes the text it choked on.
 */
export function loadSourceSecrets(path: string | undefined): SourceSecrets {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`STOCKFLOW_SOURCE_SECRETS_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`STOCKFLOW_SOURCE_SECRETS_FILE: ${path} is not valid JSON`);
  }
  const parsed = SourceSecrets.safeParse(json);
  if (!parsed.success) throw new Error(`STOCKFLOW_SOURCE_SECRETS_FILE: ${path}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
