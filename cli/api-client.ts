import { signedHeaders } from '../api/auth';
import { loadConfig } from '../runtime/config';
import type { EnvConfig } from '../schemas/config';

export interface ApiClientOptions {
  baseUrl: string;
  webhookSecret?: string;
  apiToken?: string;
}

export function apiClientOptions(config: EnvConfig, baseUrl?: string): ApiClientOptions {
  return {
    baseUrl: baseUrl ?? `http://${config.STOCKFLOW_API_HOST}:${config.STOCKFLOW_API_PORT}`,
    webhookSecret: config.STOCKFLOW_WEBHOOK_SECRET,
    apiToken: config.STOCKFLOW_API_TOKEN,
  };
}

export interface ApiResponse {
  status: number;
  body: any;
}

/** Talks to a running Stockflow API as the principal of STOCKFLOW_API_TOKEN, or, without one, signing upstream requests with the fallback secret. */
export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  get(path: string): Promise<ApiResponse> {
    return this.send('GET', path);
  }

  post(path: string, body: unknown, kind: 'upstream' | 'operator' = 'upstream'): Promise<ApiResponse> {
    return this.send('POST', path, body, kind);
  }

  /** Posts a body as it is (a feed file), signed like any upstream request. */
  postRaw(path: string, payload: string, contentType: string): Promise<ApiResponse> {
    return this.request('POST', path, payload, contentType, 'upstream');
  }

  /** Puts a file as it is (a CSV of policies), as the operator of the token. */
  putRaw(path: string, payload: string, contentType: string): Promise<ApiResponse> {
    return this.request('PUT', path, payload, contentType, 'operator');
  }

  send(method: string, path: string, body?: unknown, kind: 'upstream' | 'operator' = 'operator'): Promise<ApiResponse> {
    return this.request(method, path, body === undefined ? undefined : JSON.stringify(body), 'application/json', kind);
  }

  private async request(method: string, path: string, payload: string | undefined, contentType: string, kind: 'upstream' | 'operator'): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (payload !== undefined) headers['content-type'] = contentType;
    if (this.options.apiToken) headers.authorization = `Bearer ${this.options.apiToken}`;
    // A person with a token posts upstream data as themselves; the signature is for systems without one.
    if (payload !== undefined && kind === 'upstream' && this.options.webhookSecret && !this.options.apiToken) {
      Object.assign(headers, signedHeaders(this.options.webhookSecret, payload));
    }
    let response: Response;
    try {
      response = await fetch(new URL(path, this.options.baseUrl), { method, headers, body: payload });
    } catch (error) {
      throw new Error(`cannot reach the Stockflow API at ${this.options.baseUrl} (is \`npm start\` running?): ${(error as Error).cause ?? error}`);
    }
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }
}

/** The client a command uses: the environment's configuration, or `--api <url>`. */
export function apiClientFor(options: { api?: string }): ApiClient {
  return new ApiClient(apiClientOptions(loadConfig(), options.api));
}

/** Prints the API's refusal and makes the command exit 1. */
export function reportFailure(response: ApiResponse): void {
  console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
  process.exitCode = 1;
}
