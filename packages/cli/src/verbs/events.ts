// `raftplane events`: the table `kubectl events` prints (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE),
// oldest first, for a namespace, every namespace, or one object (--for), and -w to follow.

import { resourceByName, type Event, type ResourceInfo } from '@raftplane/api';
import { CliError, CliErrorCode, invalidFlag } from '../errors.js';
import { colourFor, listOf, TableWriter, toJson, toYaml, withoutManagedFields } from './printing.js';
import { eventAge, sortEvents } from './read-describe-text.js';
import { outputFlag, parseReadArgs, printedHelp, stringFlag, verbUsage, type ReadFlag } from './read-flags.js';
import { watchObjects } from './read-watch.js';
import { resourceFromWord } from './resource-words.js';
import { withSession, type Verb } from './session.js';

const flags: readonly ReadFlag[] = [
  { name: 'all-namespaces', short: 'A', type: 'boolean', fallback: 'false', text: 'events of every namespace, with a NAMESPACE column' },
  { name: 'for', type: 'string', value: '<type>/<name>', fallback: 'every object', text: 'only the events about this object: pod/web-1, deploy/web' },
  { name: 'types', type: 'string', value: '<type,...>', fallback: 'all', text: 'only these event types: Normal, Warning' },
  { name: 'watch', short: 'w', type: 'boolean', fallback: 'false', text: 'after the table, print every new event until interrupted' },
  { name: 'no-headers', type: 'boolean', fallback: 'false', text: 'leave out the header line' },
  { name: 'output', short: 'o', type: 'string', value: '<format>', fallback: 'a table', text: 'yaml | json: the events, oldest first, as a v1 List' },
];

export const eventsUsage = verbUsage(
  {
    usage: ['raftplane events [--for <type>/<name>] [-A] [-w] [flags]'],
    summary: ['Lists events as kubectl events does: oldest first, `3m (x4 over 10m)` for repeated ones.'],
    examples: ['raftplane events', 'raftplane events --for pod/web-1', 'raftplane events -A --types Warning -w'],
  },
  flags,
);

const eventsInfo = resourceByName('', 'events') as ResourceInfo;
const eventTypes = ['Normal', 'Warning'];

interface EventsOptions {
  readonly output: 'yaml' | 'json' | undefined;
  readonly allNamespaces: boolean;
  readonly fieldSelector: string | undefined;
  readonly types: readonly string[] | undefined;
  readonly watch: boolean;
  readonly noHeaders: boolean;
}

/** `--for pod/web-1` as the field selectors the apiserver serves for events. */
function forSelector(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) throw invalidFlag('for', `${JSON.stringify(text)} must be <type>/<name>, e.g. pod/web-1`);
  const info = resourceFromWord(text.slice(0, slash));
  return `involvedObject.kind=${info.kind},involvedObject.name=${text.slice(slash + 1)}`;
}

function optionsOf(values: Record<string, string | boolean | string[] | undefined>, positionals: readonly string[]): EventsOptions {
  if (positionals.length > 0) throw new CliError(CliErrorCode.InvalidArgument, `unexpected argument ${JSON.stringify(positionals[0])} for raftplane events: name the object with --for <type>/<name>`);
  const typesText = stringFlag(values, 'types');
  const types = typesText?.split(',').map((t) => t.trim());
  for (const type of types ?? []) {
    // kubectl compares case-insensitively and reports the type it does not know.
    if (!eventTypes.some((t) => t.toLowerCase() === type.toLowerCase())) throw invalidFlag('types', `${JSON.stringify(type)} is not a valid event type (Normal, Warning)`);
  }
  const output = outputFlag(values, ['yaml', 'json'] as const);
  if (output !== undefined && values.watch === true) throw new CliError(CliErrorCode.InvalidArgument, `--watch prints tables only: drop -o ${output}`);
  return {
    output,
    allNamespaces: values['all-namespaces'] === true,
    fieldSelector: forSelector(stringFlag(values, 'for')),
    types: types?.map((t) => t.toLowerCase()),
    watch: values.watch === true,
    noHeaders: values['no-headers'] === true,
  };
}

function eventRow(event: Event, options: EventsOptions, nowMs: number): string[] {
  const involved = event.involvedObject;
  const row = [eventAge(event, nowMs), event.type ?? '', event.reason ?? '', `${involved.kind ?? ''}/${involved.name ?? ''}`, (event.message ?? '').trim()];
  return options.allNamespaces ? [event.metadata.namespace ?? '', ...row] : row;
}

export const eventsVerb: Verb = async (argv, io) => {
  const { values, positionals } = parseReadArgs('events', argv, flags);
  if (printedHelp(values, io, eventsUsage)) return 0;
  const options = optionsOf(values, positionals);
  return withSession(values, io, async (session) => {
    const namespace = options.allNamespaces ? undefined : session.namespace;
    const selectors = { labelSelector: undefined, fieldSelector: options.fieldSelector };
    const list = await session.client.resourceFor(eventsInfo, namespace).listAll({ ...selectors, signal: io.signal });
    const wanted = (event: Event): boolean => options.types === undefined || options.types.includes((event.type ?? '').toLowerCase());
    const events = sortEvents((list.items as Event[]).filter(wanted));
    if (options.output !== undefined) {
      const value = listOf(events.map(withoutManagedFields));
      io.stdout.write(options.output === 'json' ? toJson(value) : toYaml(value));
      return 0;
    }
    const header = [...(options.allNamespaces ? ['NAMESPACE'] : []), 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];
    const writer = new TableWriter(colourFor(io.isTTY, io.env));
    let headerDue = !options.noHeaders;
    const print = (rows: string[][]): void => {
      if (rows.length === 0) return;
      io.stdout.write(`${writer.lines(headerDue ? [header, ...rows] : rows, headerDue).join('\n')}\n`);
      headerDue = false;
    };
    const now = Date.now();
    print(events.map((e) => eventRow(e, options, now)));
    if (events.length === 0 && !options.watch) io.stderr.write(options.allNamespaces ? 'No events found.\n' : `No events found in ${session.namespace} namespace.\n`);
    if (!options.watch) return 0;
    await watchObjects(session.client, eventsInfo, namespace, selectors, list.metadata.resourceVersion ?? '', io.signal, (event) => {
      if (event.type !== 'DELETED' && wanted(event.object as Event)) print([eventRow(event.object as Event, options, Date.now())]);
    });
    return 0;
  });
};
