import { loadConfig } from '../runtime/config';
import { ApiClient, apiClientOptions } from './api-client';
import { formatStockLevels } from './format';

/** `stockflow stock <sku>`: the buckets of one SKU. */
export async function stockCommand(sku: string, options: { api?: string; json?: boolean }): Promise<void> {
  const api = new ApiClient(apiClientOptions(loadConfig(), options.api));
  const response = await api.get(`/v1/stock/${encodeURIComponent(sku)}`);
  if (response.status !== 200) {
    console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
    process.exitCode = 1;
    return;
  }
  console.log(options.json ? JSON.stringify(response.body, null, 2) : formatStockLevels(response.body));
}
