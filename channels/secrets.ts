import { readFile } from 'node:fs/promises';

/**
 * Reads a channel's secret where its reference says, at the moment of use: `env:NAME` from the
 * worker's environment, `file:/path.json#key` from a JSON file of secrets. Errors name the
 * reference, never a value; nothing here logs.
 */
export async function readSecret(ref: string): Promise<string> {
  if (ref.startsWith('env:')) {
    const name = ref.slice('env:'.length);
    const value = process.env[name];
    if (!value) throw new Error(`secret ${ref} is not set in this worker's environment`);
    return value;
  }
  const match = /^file:(\/[^#]+)#(.+)$/.exec(ref);
  if (!match) throw new Error(`secret reference ${ref} is neither env:NAME nor file:/path#key`);
  let secrets: unknown;
  try {
    secrets = JSON.parse(await readFile(match[1], 'utf8'));
  } catch (error) {
    throw new Error(`secret file of ${ref} cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? 'invalid JSON'})`);
  }
  const value = (secrets as Record<string, unknown> | null)?.[match[2]];
  if (typeof value !== 'string' || value === '') throw new Error(`secret file of ${ref} has no string under "${match[2]}"`);
  return value;
}
