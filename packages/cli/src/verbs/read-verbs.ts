// The verbs that read: get, describe, events, logs.
import type { Verb } from './session.js';

export const readVerbs: Readonly<Record<string, Verb>> = {};
