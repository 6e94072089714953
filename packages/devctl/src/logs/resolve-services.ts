// Until the shared service-name resolver of the ecosystem lands, `logs` and `monit` resolve names
// here: `all` or nothing means every service; an unknown name is a usage error with a suggestion.
import { closest } from 'fastest-levenshtein';
import type { Ecosystem, ServiceEntry } from '../ecosystem/index';
import { usageError } from '../errors';

export function resolveServices(ecosystem: Ecosystem, names: string[]): ServiceEntry[] {
  const wanted = names.filter((name) => name !== 'all');
  if (wanted.length === 0) return ecosystem.services;
  const known = ecosystem.services.map((service) => service.name);
  const unknown = wanted.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const first = unknown[0] as string;
    const suggestion = known.length > 0 ? ` did you mean ${closest(first, known)}?` : '';
    throw usageError(
      `unknown service "${unknown.join('", "')}" in ${ecosystem.file};${suggestion} (services: ${known.join(', ') || 'none'})`,
      { unknown, known },
    );
  }
  return ecosystem.services.filter((service) => wanted.includes(service.name));
}
