import type { createApp } from '@repo/service-kit';
import type { DataConfig } from '../config';
import type { Store } from '../store';

export interface RouteContext {
  app: ReturnType<typeof createApp>;
  store: Store;
  config: DataConfig;
}
