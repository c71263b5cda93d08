/**
 * Where `infra/fetch.sh` put the services. The versions are read from the POMs (the one place they
 * are written), so a bumped version without a new fetch is reported instead of silently using the old.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from './supervisor.ts';

export interface InfraLayout {
  readonly kafkaVersion: string;
  /** The broker's runtime jars. */
  readonly kafkaLibs: string;
  readonly apicurioVersion: string;
  /** The extracted Apicurio app (holds `quarkus-run.jar`). */
  readonly apicurioHome: string;
  /** A Java 21+ executable for Apicurio, chosen by fetch.sh. */
  readonly apicurioJava: string;
  /** Pid files of the services, shared by all runs. */
  readonly pidDir: string;
}

function pomProperty(pom: string, name: string): string {
  const text = readFileSync(pom, 'utf8');
  const m = new RegExp(`<${name.replace(/\./g, '\\.')}>([^<]+)</`).exec(text);
  if (!m?.[1]) throw new InfraError('HETU_INFRA_POM', `${pom} has no <${name}> property.`);
  return m[1].trim();
}

/** The project's service versions, read from `infra/kafka/pom.xml` and `infra/registry/pom.xml`. */
export function infraVersions(rootDir: string): { kafka: string; apicurio: string } {
  return {
    kafka: pomProperty(join(rootDir, 'infra/kafka/pom.xml'), 'kafka.version'),
    apicurio: pomProperty(join(rootDir, 'infra/registry/pom.xml'), 'apicurio.version'),
  };
}

/**
 * Finds the fetched services under `<rootDir>/.cache/infra`, or throws one sentence that says to run
 * `npm run infra:fetch`.
 */
export function locateInfra(rootDir: string): InfraLayout {
  const v = infraVersions(rootDir);
  const cache = join(rootDir, '.cache/infra');
  const kafkaDir = join(cache, `kafka-${v.kafka}`);
  const apicurioHome = join(cache, `apicurio-${v.apicurio}`);
  const javaPath = join(apicurioHome, 'java.path');
  const missing: string[] = [];
  if (!existsSync(join(kafkaDir, '.complete'))) missing.push(`Kafka ${v.kafka}`);
  if (!existsSync(join(apicurioHome, '.complete'))) missing.push(`Apicurio Registry ${v.apicurio}`);
  let apicurioJava = '';
  if (missing.length === 0) {
    apicurioJava = existsSync(javaPath) ? readFileSync(javaPath, 'utf8').trim() : '';
    if (!apicurioJava || !existsSync(apicurioJava)) missing.push('a Java 21+ runtime for Apicurio');
  }
  if (missing.length > 0) {
    throw new InfraError(
      'HETU_INFRA_NOT_FETCHED',
      `${missing.join(' and ')} not found in ${cache}: run npm run infra:fetch.`,
    );
  }
  return {
    kafkaVersion: v.kafka,
    kafkaLibs: join(kafkaDir, 'libs'),
    apicurioVersion: v.apicurio,
    apicurioHome,
    apicurioJava,
    pidDir: join(cache, 'pids'),
  };
}
