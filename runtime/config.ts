import { EnvConfig } from '../schemas/config';
import { formatIssues } from '../schemas/issues';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const parsed = EnvConfig.safeParse(env);
  if (!parsed.success) throw new Error(`invalid configuration: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
