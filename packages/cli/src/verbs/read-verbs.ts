// The verbs that read: get, describe, events, logs, api-resources.
import { apiResourcesVerb } from './api-resources.js';
import { describeVerb } from './describe.js';
import { eventsVerb } from './events.js';
import { getVerb } from './get.js';
import { logsVerb } from './logs.js';
import type { Verb } from './session.js';

export const readVerbs: Readonly<Record<string, Verb>> = { get: getVerb, describe: describeVerb, events: eventsVerb, logs: logsVerb, 'api-resources': apiResourcesVerb };
