/** Workflow ids are business keys, so a duplicate upstream event cannot start a second run. */
export const workflowIds = {
  stockMovement: (idempotencyKey: string) => `movement/${idempotencyKey}`,
  exception: (type: string, subject: string) => `exception/${type}/${subject}`,
  order: (channel: string, orderId: string) => `order/${channel}/${orderId}`,
};
