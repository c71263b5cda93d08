import type {
  Batch,
  Log,
  LogRecord,
  ReadOptions,
  SubscribeOptions,
  Subscription,
  TopicInfo,
  TopicSpec,
} from './port.ts';

/**
 * A namespace on a shared log: every topic and consumer group name gets `prefix` in front, and
 * callers keep using the plain names (records and batches come back with them). Several hetu
 * installations (or test runs) can share one Kafka cluster this way, as Kafka Streams
 * applications do with their application id. Transactional ids derive from group names, so they
 * are namespaced too.
 */
export function prefixedLog(log: Log, prefix: string): Log {
  if (prefix === '') return log;
  const to = (name: string) => prefix + name;
  const from = (name: string) => (name.startsWith(prefix) ? name.slice(prefix.length) : name);
  const record = (r: LogRecord): LogRecord => ({ ...r, topic: from(r.topic) });
  const batch = (b: Batch): Batch => ({ ...b, records: b.records.map(record) });
  return {
    kind: log.kind,
    ensureTopics: (specs: readonly TopicSpec[]) =>
      log.ensureTopics(specs.map((s) => ({ ...s, name: to(s.name) }))),
    describeTopics: async (names?: readonly string[]): Promise<TopicInfo[]> => {
      const infos = await log.describeTopics(names?.map(to));
      return infos.filter((i) => i.name.startsWith(prefix)).map((i) => ({ ...i, name: from(i.name) }));
    },
    append: async (topic, records) =>
      (await log.append(to(topic), records)).map((p) => ({ ...p, topic: from(p.topic) })),
    read: async (topic: string, partition: number, options?: ReadOptions) =>
      (await log.read(to(topic), partition, options)).map(record),
    committed: (group, topic) => log.committed(to(group), to(topic)),
    subscribe: (options: SubscribeOptions): Promise<Subscription> =>
      log.subscribe({
        ...options,
        group: to(options.group),
        topics: options.topics.map(to),
        ...(options.ungatedTopics ? { ungatedTopics: options.ungatedTopics.map(to) } : {}),
        handler: (b, tx) =>
          options.handler(batch(b), {
            append: (topic, records) => tx.append(to(topic), records),
            onCommitted: (cb) => tx.onCommitted(cb),
          }),
        ...(options.onError
          ? { onError: (err, b, attempt) => options.onError!(err, batch(b), attempt) }
          : {}),
      }),
    deleteTopics: (names: readonly string[]) => log.deleteTopics(names.map(to)),
    deleteGroups: (groups: readonly string[]) => log.deleteGroups(groups.map(to)),
    close: () => log.close(),
  };
}
