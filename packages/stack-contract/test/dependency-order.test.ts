import { describe, expect, it } from 'vitest';
import { DependencyCycleError, dependencyWaves, withDependencies } from '../src/index';

const service = (name: string, dependsOn: string[] = []) => ({ name, dependsOn });
const names = (waves: { name: string }[][]) => waves.map((wave) => wave.map((s) => s.name));

// The sample stack's depends_on, in the order of its ecosystem.config.js.
const stack = [
  service('data-service'),
  service('email-service'),
  service('auth-service', ['data-service']),
  service('form-service', ['data-service']),
  service('worker-service', ['data-service', 'email-service']),
  service('scheduler-service', ['data-service']),
  service('api-gateway', ['auth-service', 'form-service', 'data-service']),
];

describe('dependencyWaves', () => {
  it('starts dependencies in earlier waves, keeping the given order within a wave', () => {
    expect(names(dependencyWaves(stack))).toEqual([
      ['data-service', 'email-service'],
      ['auth-service', 'form-service', 'worker-service', 'scheduler-service'],
      ['api-gateway'],
    ]);
  });

  it('counts a dependency outside the list as satisfied', () => {
    expect(names(dependencyWaves([service('b', ['a']), service('c', ['b'])]))).toEqual([['b'], ['c']]);
  });

  it('names the services of a cycle', () => {
    const cycle = [service('ok'), service('a', ['b']), service('b', ['a'])];
    expect(() => dependencyWaves(cycle)).toThrow(DependencyCycleError);
    expect(() => dependencyWaves(cycle)).toThrow('dependency cycle among a, b');
  });

  it('is empty for no services', () => {
    expect(dependencyWaves([])).toEqual([]);
  });
});

describe('withDependencies', () => {
  it('adds what the selected services need, directly or not, in the list order', () => {
    const gateway = stack.find((s) => s.name === 'api-gateway')!;
    expect(withDependencies(stack, [gateway]).map((s) => s.name)).toEqual([
      'data-service',
      'auth-service',
      'form-service',
      'api-gateway',
    ]);
  });

  it('ends on a cycle and ignores unknown names', () => {
    const list = [service('a', ['b', 'missing']), service('b', ['a']), service('c')];
    expect(withDependencies(list, [list[0]!]).map((s) => s.name)).toEqual(['a', 'b']);
  });
});
