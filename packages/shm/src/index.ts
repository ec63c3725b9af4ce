export * from './arena.js';
export * from './counters.js';
export * from './lock.js';
export * from './page-table.js';
export * from './slot-table.js';
export * from './zone.js';
