import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { selectBenchmarks } from '../bench/common';
import { configuredEndpoints } from '../runtime/composition';
import { loadConfig } from '../runtime/config';
import { startEmbeddedPostgres } from '../runtime/postgres';
import { removeDataDir } from '../runtime/postgres-as-root';
import { findOrBuildTemporalCli, temporalCliCacheDir } from '../runtime/temporal-cli';
import { freePort } from '../runtime/wait';
import { DEFAULT_CONFIG, feedRulesOf, orderWindowsOf } from '../schemas/config';

const quiet = () => undefined;

function executable(file: string, script: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return file;
}

/** A stand-in for `go`: `go version` answers; `go install` writes a `temporal` script into GOBIN (or fails when told to). */
function fakeGo(dir: string, { fail = false } = {}): void {
  executable(
    path.join(dir, 'go'),
    [
      'if [ "$1" = version ]; then echo "go version go0.0 fake"; exit 0; fi',
      fail ? 'echo "build failed" >&2; exit 1' : `printf '#!/bin/sh\\necho built\\n' > "$GOBIN/temporal"; /bin/chmod 755 "$GOBIN/temporal"`,
    ].join('\n'),
  );
}

describe('runtime', () => {
  let scratch: string;

  beforeEach(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'stockflow-runtime-'));
  });

  afterEach(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('the Temporal CLI', () => {
    const places = (env: NodeJS.ProcessEnv) => ({ env, localBin: path.join(scratch, 'clone', '.tools', 'bin') });

    it('is looked up in TEMPORAL_CLI_PATH, then PATH, then .tools/bin, then the per-user cache', async () => {
      const cache = path.join(scratch, 'xdg', 'stockflow', 'temporal-cli', 'v1.5.1', 'temporal');
      const onPath = executable(path.join(scratch, 'path', 'temporal'), 'echo path');
      const local = executable(path.join(scratch, 'clone', '.tools', 'bin', 'temporal'), 'echo local');
      executable(cache, 'echo cache');
      const env = { PATH: path.join(scratch, 'path'), XDG_CACHE_HOME: path.join(scratch, 'xdg') };
      const explicit = executable(path.join(scratch, 'explicit'), 'echo explicit');

      assert.equal(await findOrBuildTemporalCli(quiet, { cliPath: explicit, places: places(env) }), explicit);
      assert.equal(await findOrBuildTemporalCli(quiet, { places: places(env) }), onPath);
      rmSync(onPath);
      assert.equal(await findOrBuildTemporalCli(quiet, { places: places(env) }), local);
      rmSync(local);
      assert.equal(await findOrBuildTemporalCli(quiet, { places: places(env) }), cache);
      await assert.rejects(findOrBuildTemporalCli(quiet, { cliPath: path.join(scratch, 'missing'), places: places(env) }), /TEMPORAL_CLI_PATH=.*missing is not an executable file/);
    });

    it('caches per user and version under XDG_CACHE_HOME, else ~/.cache', () => {
      assert.equal(temporalCliCacheDir({ HOME: '/home/ann' }), '/home/ann/.cache/stockflow/temporal-cli/v1.5.1');
      assert.equal(temporalCliCacheDir({ HOME: '/home/ann', XDG_CACHE_HOME: '/var/cache/ann' }), '/var/cache/ann/stockflow/temporal-cli/v1.5.1');
      assert.equal(temporalCliCacheDir({ HOME: '/home/ann', XDG_CACHE_HOME: 'relative' }), '/home/ann/.cache/stockflow/temporal-cli/v1.5.1');
      assert.equal(temporalCliCacheDir({}), undefined);
    });

    it('is built into the cache through a staging folder, so concurrent builds both end with a whole binary and leave nothing behind', async () => {
      const bin = path.join(scratch, 'bin');
      fakeGo(bin);
      const env = { PATH: bin, HOME: path.join(scratch, 'home') };
      const cacheDir = temporalCliCacheDir(env) as string;
      // A staging folder left by a build that was killed (its pid is gone).
      mkdirSync(path.join(cacheDir, '.build-999999999-x'), { recursive: true });

      const built = await Promise.all([findOrBuildTemporalCli(quiet, { places: places(env) }), findOrBuildTemporalCli(quiet, { places: places(env) })]);
      assert.deepEqual(built, [path.join(cacheDir, 'temporal'), path.join(cacheDir, 'temporal')]);
      assert.equal(readFileSync(path.join(cacheDir, 'temporal'), 'utf8'), '#!/bin/sh\necho built\n');
      assert.deepEqual(readdirSync(cacheDir), ['temporal']);
      // A second clone (another .tools/bin) finds it without building.
      rmSync(path.join(bin, 'go'));
      assert.equal(await findOrBuildTemporalCli(quiet, { places: { env, localBin: path.join(scratch, 'clone2', '.tools', 'bin') } }), path.join(cacheDir, 'temporal'));
    });

    it('leaves no binary when the build fails', async () => {
      const bin = path.join(scratch, 'bin');
      fakeGo(bin, { fail: true });
      const env = { PATH: bin, HOME: path.join(scratch, 'home') };
      await assert.rejects(findOrBuildTemporalCli(quiet, { places: places(env) }), /go install github.com\/temporalio\/cli\/cmd\/temporal@v1.5.1 failed \(exit 1\):\nbuild failed/);
      assert.deepEqual(readdirSync(temporalCliCacheDir(env) as string), []);
    });

    it('is built into .tools/bin when there is no home to cache it in', async () => {
      const bin = path.join(scratch, 'bin');
      fakeGo(bin);
      assert.equal(await findOrBuildTemporalCli(quiet, { places: places({ PATH: bin }) }), path.join(scratch, 'clone', '.tools', 'bin', 'temporal'));
    });
  });

  describe('configuration', () => {
    it('has every default in one place', () => {
      assert.equal(DEFAULT_CONFIG.STOCKFLOW_FEED_MAX_BYTES, 64 * 1024 * 1024);
      assert.deepEqual(feedRulesOf(DEFAULT_CONFIG), { spikeAbsolute: 50, spikeRelative: 0.5, quarantineShare: 0.2, quarantineMinLines: 10, chunkSize: 2000 });
      assert.deepEqual(orderWindowsOf(DEFAULT_CONFIG), { paymentWindow: 30 * 60, fulfilmentWindow: 2 * 3600, reservationGrace: 24 * 3600 });
    });

    it('reads overrides from the environment and names a bad variable', () => {
      const config = loadConfig({ STOCKFLOW_FEED_CHUNK_SIZE: '500', STOCKFLOW_ORDER_PAYMENT_WINDOW: '15m', STOCKFLOW_FEED_SPIKE_RELATIVE: '0.25' });
      assert.equal(feedRulesOf(config).chunkSize, 500);
      assert.equal(feedRulesOf(config).spikeRelative, 0.25);
      assert.equal(orderWindowsOf(config).paymentWindow, 900);
      assert.throws(() => loadConfig({ STOCKFLOW_FEED_CHUNK_SIZE: '50000' }), /invalid configuration: STOCKFLOW_FEED_CHUNK_SIZE: /);
      assert.throws(() => loadConfig({ STOCKFLOW_FEED_QUARANTINE_SHARE: '2' }), /STOCKFLOW_FEED_QUARANTINE_SHARE/);
    });

    it('stockflow worker needs DATABASE_URL and TEMPORAL_ADDRESS, and says so in one sentence', () => {
      assert.throws(
        () => configuredEndpoints(DEFAULT_CONFIG, 'stockflow worker'),
        /^Error: stockflow worker joins a running stack and needs DATABASE_URL and TEMPORAL_ADDRESS: set them to the Postgres and Temporal that stack uses \(npm start prints both\)$/,
      );
      assert.throws(() => configuredEndpoints(loadConfig({ DATABASE_URL: 'postgres://db/x' }), 'stockflow worker'), /needs TEMPORAL_ADDRESS: set it/);
      assert.deepEqual(configuredEndpoints(loadConfig({ DATABASE_URL: 'postgres://db/x', TEMPORAL_ADDRESS: 't:7233' }), 'stockflow worker'), {
        databaseUrl: 'postgres://db/x',
        temporalAddress: 't:7233',
      });
    });
  });

  describe('benchmarks', () => {
    const all = ['reservations', 'orders', 'feeds', 'load'].map((name) => ({ name }));

    it('runs all, or those named in the order named', () => {
      assert.deepEqual(selectBenchmarks(all, []), all);
      assert.deepEqual(selectBenchmarks(all, ['feeds', 'orders', 'feeds']).map((b) => b.name), ['feeds', 'orders']);
    });

    it('refuses an unknown name, listing the names', () => {
      assert.throws(() => selectBenchmarks(all, ['orders', 'order']), /^Error: unknown benchmark "order": choose from reservations, orders, feeds, load$/);
    });
  });

  describe('embedded PostgreSQL', () => {
    it('starts, keeps its data and starts again from a project inside private (mode 700) folders, as root or not', async () => {
      const home = path.join(scratch, 'home');
      mkdirSync(path.join(home, 'repo'), { recursive: true });
      chmodSync(home, 0o700);
      const dataDir = path.join(home, 'repo', '.data', 'postgres');
      const port = await freePort();
      const query = async (adminUrl: string, statement: string) => {
        const sql = postgres(adminUrl, { max: 1, onnotice: quiet });
        try {
          return await sql.unsafe(statement);
        } finally {
          await sql.end();
        }
      };
      let server = await startEmbeddedPostgres({ dataDir, port });
      try {
        await query(server.adminUrl, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
        await server.stop();
        server = await startEmbeddedPostgres({ dataDir, port });
        assert.deepEqual([...(await query(server.adminUrl, 'SELECT n FROM kept'))], [{ n: 42 }]);
      } finally {
        await server.stop();
        removeDataDir(dataDir);
      }
      assert.equal(statSync(home).mode & 0o777, 0o700, 'the private folder keeps its mode');
    });
  });
});
