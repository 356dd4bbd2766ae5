import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { buildApi } from '../api/server';
import { connect } from '../db/connection';
import { addPrincipal, issueToken } from '../db/principals';
import { apiSettingsOf } from '../runtime/composition';
import { DEFAULT_CONFIG } from '../schemas/config';
import { fmt, median } from './common';

const CLIENTS = 16;
const REQUESTS_PER_RUN = 3_000;
const WARM_UP_REQUESTS = 500;
const MEASURED_RUNS = 5;
const BOOTSTRAP = 'bench-bootstrap-token-0123456789';
const ISSUER = 'https://idp.bench/';
const AUDIENCE = 'stockflow-bench';

interface Credential {
  name: string;
  authorization: string;
  principal: string;
}

/**
 * Authenticated requests per second (GET /v1/whoami, so the route does nothing else) with a stored
 * API token (a lookup by id and a SHA-256) and an OIDC JWT (an RS256 signature check against a
 * cached JWKS), each against the bootstrap token (one constant-time comparison) in the same run.
 */
export async function benchAuth(databaseUrl: string): Promise<boolean> {
  const database = connect(databaseUrl, { max: 10 });
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256' };
  const jwks = createServer((_request, response) => response.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const client = new Client();
  let app: FastifyInstance | undefined;
  try {
    app = await buildApi({
      ...apiSettingsOf(DEFAULT_CONFIG),
      database,
      client,
      apiToken: BOOTSTRAP,
      oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/`, rolesClaim: 'roles', idClaim: 'sub' },
    });
    await addPrincipal(database.db, { id: 'bench-user', kind: 'user', name: 'Bench', role: 'viewer' }, 'bench');
    const issued = await issueToken(database.db, 'bench-user', 3600, 'bench');
    const jwt = await new SignJWT({ roles: ['viewer'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
      .setSubject('bench-oidc')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(privateKey);
    const baseline: Credential = { name: 'bootstrap', authorization: `Bearer ${BOOTSTRAP}`, principal: 'bootstrap-admin' };
    const measured: Credential[] = [
      { name: 'API token', authorization: `Bearer ${issued?.token}`, principal: 'bench-user' },
      { name: 'OIDC JWT', authorization: `Bearer ${jwt}`, principal: 'bench-oidc' },
    ];
    console.log(`${CLIENTS} concurrent clients, ${fmt(REQUESTS_PER_RUN)} requests per run, ${MEASURED_RUNS} runs per credential after a ${fmt(WARM_UP_REQUESTS)}-request warm-up, alternating`);
    let wrong = 0;
    const rates = new Map<string, number[]>();
    const runOnce = async (credential: Credential, requests: number, tag: string) => {
      const run = await measure(app as FastifyInstance, credential, requests);
      wrong += run.wrong;
      console.log(`  ${tag.padEnd(8)} ${credential.name.padEnd(10)} ${fmt(run.rate).padStart(7)} req/s${run.wrong > 0 ? `   ${run.wrong} WRONG ANSWERS` : ''}`);
      return run.rate;
    };
    for (const credential of [baseline, ...measured]) await runOnce(credential, WARM_UP_REQUESTS, 'warm-up');
    for (let i = 1; i <= MEASURED_RUNS; i++) {
      for (const credential of [baseline, ...measured]) rates.set(credential.name, [...(rates.get(credential.name) ?? []), await runOnce(credential, REQUESTS_PER_RUN, `run ${i}`)]);
    }
    const base = median(rates.get(baseline.name) ?? []);
    console.log(`\nmedian req/s: ${baseline.name} ${fmt(base)} (baseline)`);
    for (const credential of measured) {
      const rate = median(rates.get(credential.name) ?? []);
      console.log(`median req/s: ${credential.name} ${fmt(rate)}, ratio ${(rate / base).toFixed(2)} of the baseline`);
    }
    return wrong === 0;
  } finally {
    await app?.close();
    await client.connection.close().catch(() => undefined);
    await new Promise((resolve) => jwks.close(resolve));
    await database.close();
  }
}

async function measure(app: FastifyInstance, credential: Credential, requests: number): Promise<{ rate: number; wrong: number }> {
  let next = 0;
  let wrong = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < requests) {
        next += 1;
        const response = await app.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: credential.authorization } });
        if (response.statusCode !== 200 || response.json().id !== credential.principal) wrong += 1;
      }
    }),
  );
  return { rate: requests / ((performance.now() - started) / 1000), wrong };
}
