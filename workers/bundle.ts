/**
 * Run as a child process by `bundleWorkflowsOutOfProcess`: bundles the workflow code into the
 * file named on the command line, then exits, taking webpack's memory with it.
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflows } from './worker';

bundleWorkflows().then(
  ({ code }) => writeFileSync(process.argv[2], code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
