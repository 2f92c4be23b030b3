// @raftplane/cli: the raftplane command's pieces, for tests and for other entry points.
export * from './errors.js';
export * from './duration.js';
export * from './component-options.js';
export { runComponent } from './component.js';
export * from './proxy-options.js';
export * from './agent-options.js';
