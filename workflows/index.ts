export { exceptionHold } from './exception-hold';
export { ownerEscalation } from './owner-escalation';
export { stockMovement } from './stock-movement';
