export * from './errors.ts';
export * from './events.ts';
export * from './routing.ts';
export * from './state.ts';
