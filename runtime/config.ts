import { EnvConfig } from '../schemas/config';
import { FeedRules } from '../schemas/feeds';
import { formatIssues } from '../schemas/issues';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const parsed = EnvConfig.safeParse(env);
  if (!parsed.success) throw new Error(`invalid configuration: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** The feed rule thresholds, from the environment where set, else the defaults. */
export function feedRulesOf(config: EnvConfig): FeedRules {
  return FeedRules.parse({
    spikeAbsolute: config.STOCKFLOW_FEED_SPIKE_ABSOLUTE,
    spikeRelative: config.STOCKFLOW_FEED_SPIKE_RELATIVE,
    quarantineShare: config.STOCKFLOW_FEED_QUARANTINE_SHARE,
    quarantineMinLines: config.STOCKFLOW_FEED_QUARANTINE_MIN_LINES,
    chunkSize: config.STOCKFLOW_FEED_CHUNK_SIZE,
  });
}
