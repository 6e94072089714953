import { describe, expect, it } from 'vitest';
import {
  isServiceUrlVariable,
  localServiceUrl,
  serviceOfUrlVariable,
  serviceUrlVariable,
} from '../src/index';

describe('service URL variables', () => {
  it.each([
    ['data-service', 'DATA_SERVICE_URL'],
    ['scheduler-service', 'SCHEDULER_SERVICE_URL'],
    ['user-profile-service', 'USER_PROFILE_SERVICE_URL'],
    ['api-gateway', 'API_GATEWAY_URL'],
    ['billing', 'BILLING_URL'],
  ])('%s is called at %s', (service, variable) => {
    expect(serviceUrlVariable(service)).toBe(variable);
  });

  const services = ['auth-service', 'billing', 'user-profile-service', 'inventory'];
  it.each([
    ['AUTH_SERVICE_URL', 'auth-service'],
    ['AUTH_URL', 'auth-service'],
    ['BILLING_URL', 'billing'],
    ['USER_PROFILE_SERVICE_URL', 'user-profile-service'],
    ['INVENTORY_SERVICE_URL', 'inventory'],
    ['DATABASE_URL', undefined],
    ['AUTH_SERVICE_HOST', undefined],
  ])('%s names %s', (variable, service) => {
    expect(serviceOfUrlVariable(variable, services)).toBe(service);
  });

  it('reads back every variable it names', () => {
    for (const service of services)
      expect(serviceOfUrlVariable(serviceUrlVariable(service), services)).toBe(service);
  });

  it.each([
    ['DATA_SERVICE_URL', true],
    ['BILLING_URL', false],
    ['DATABASE_URL', false],
    ['DATA_SERVICE_URL_2', false],
  ])('%s is a service URL variable: %s', (variable, is) => {
    expect(isServiceUrlVariable(variable)).toBe(is);
  });

  it('calls a local service on 127.0.0.1', () => {
    expect(localServiceUrl(3004)).toBe('http://127.0.0.1:3004');
  });
});
