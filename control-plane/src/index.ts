export { app, BODY_LIMIT_BYTES } from './app.js';
export * from './config.js';
export type { AppContext } from './context.js';
export { createContext, type OwnedContext } from './create-context.js';
