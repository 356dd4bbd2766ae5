import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The custom search attributes operators filter on in the Temporal UI. No personal data here. */
export const StockflowFlow = defineSearchAttributeKey('StockflowFlow', SearchAttributeType.KEYWORD);
export const ExceptionType = defineSearchAttributeKey('ExceptionType', SearchAttributeType.KEYWORD);
export const ExceptionStatus = defineSearchAttributeKey('ExceptionStatus', SearchAttributeType.KEYWORD);
export const OwnerId = defineSearchAttributeKey('OwnerId', SearchAttributeType.KEYWORD);
export const EscalationLevel = defineSearchAttributeKey('EscalationLevel', SearchAttributeType.INT);
export const Sku = defineSearchAttributeKey('Sku', SearchAttributeType.KEYWORD);
export const SupplierId = defineSearchAttributeKey('SupplierId', SearchAttributeType.KEYWORD);
export const OrderId = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const SlaDueAt = defineSearchAttributeKey('SlaDueAt', SearchAttributeType.DATETIME);
export const ChannelId = defineSearchAttributeKey('ChannelId', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [
  StockflowFlow,
  ExceptionType,
  ExceptionStatus,
  OwnerId,
  EscalationLevel,
  Sku,
  SupplierId,
  OrderId,
  SlaDueAt,
  ChannelId,
] as const;
