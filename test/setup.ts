import { startInfra, stopInfra } from './harness';

export async function mochaGlobalSetup(): Promise<void> {
  await startInfra();
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopInfra();
}
