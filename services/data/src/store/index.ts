import type { Database } from '../db';
import { createJobQueue, type JobQueue, type QueueOptions } from '../queue';
import type { Clock } from './clock';
import { createEmailStore, type EmailStore } from './emails';
import { createFormStore, type FormStore } from './forms';
import { createTickStore, type TickStore } from './ticks';
import { createUserStore, type UserStore } from './users';

export { type Clock, systemClock } from './clock';

/** Everything data-service keeps, over one database (either adapter). */
export interface Store {
  users: UserStore;
  forms: FormStore;
  emails: EmailStore;
  ticks: TickStore;
  queue: JobQueue;
}

export function createStore(db: Database, options: Omit<QueueOptions, 'clock'> & { clock: Clock }): Store {
  const queue = createJobQueue(db, options);
  return {
    users: createUserStore(db, options.clock),
    forms: createFormStore(db, options.clock, queue),
    emails: createEmailStore(db, options.clock),
    ticks: createTickStore(db, options.clock),
    queue,
  };
}
