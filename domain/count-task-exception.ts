import { exceptionSubjects } from './keys';
import type { RaiseExceptionInput } from '../schemas/exceptions';

/** The exception type a count task is held as; config/ownership.json gives it to the counting owner. */
export const COUNT_TASK = 'count_task';

/**
 * A day's count task held for the counting owner: the ownership rules pick the owner and SLAs,
 * escalation follows. Its context names the task, never a figure (the counts are blind).
 */
export function countTaskException(task: { taskKey: string; location: string; day: string; lines: number }): RaiseExceptionInput {
  return {
    type: COUNT_TASK,
    subject: exceptionSubjects.countTask(task.location, task.day),
    severity: 'low',
    summary: `Count ${task.lines} SKU(s) at ${task.location} on ${task.day} (blind: submit the counted figures)`,
    source: 'counting',
    location: task.location,
    context: { taskKey: task.taskKey, day: task.day, lines: task.lines },
  };
}
