export { stockMovement } from './stock-movement';
