export * from './candidates.js';
export * from './decisions.js';
