import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';

/**
 * Starts a workflow whose id is a business key, or attaches to the run that already has that id
 * (running or finished), so a duplicate upstream request never starts a second run.
 */
export async function startOrAttach<T extends WorkflowHandle>(client: Client, workflowId: string, start: () => Promise<T>): Promise<WorkflowHandle> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(workflowId);
    throw error;
  }
}

/** The workflow's result if it finishes within `waitMs`, else undefined (it goes on running). */
export async function resultWithin<R>(handle: WorkflowHandle, waitMs: number): Promise<R | undefined> {
  if (waitMs <= 0) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), waitMs);
  });
  try {
    return await Promise.race([handle.result() as Promise<R>, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
