export * from './errors.js';
export * from './repository.js';
export * from './rules.js';
export * from './service.js';
export * from './types.js';
