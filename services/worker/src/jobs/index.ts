import type { JobHandler } from '../types';
import { sendConfirmationEmail } from './confirmation';
import { sendDigestEmail } from './digest';

/** Every job type this worker runs; the claim asks data-service for these types only. */
export const jobHandlers: Record<string, JobHandler> = {
  'send-confirmation-email': sendConfirmationEmail,
  'send-digest-email': sendDigestEmail,
};
