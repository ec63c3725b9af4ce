export * from './checksum.js';
export * from './content.js';
export * from './api.js';
export * from './usemem.js';
