import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import type { TemporalServer } from './temporal-server';

/**
 * Last resort when there is neither a `temporal` binary nor Go: the SDK downloads a dev server.
 * Needs internet access, which our own machines do not have.
 */
export async function startSdkTestServer(namespace: string): Promise<TemporalServer> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { namespace, searchAttributes: [...SEARCH_ATTRIBUTES] },
  });
  return {
    address: env.address,
    uiUrl: undefined,
    stop: () => env.teardown(),
  };
}
