import type { ServiceClient } from '@repo/service-kit';

/** A job as data-service returns it (docs/internal-api.md). */
export interface Job {
  id: string;
  type: string;
  payload: unknown;
  idempotencyKey: string;
  status: 'pending' | 'running' | 'done' | 'dead';
  attempts: number;
  maxAttempts: number;
  runAt: string;
  leaseToken: string | null;
  leaseUntil: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface FormField {
  name: string;
  label: string;
  type: string;
  required: boolean;
  options?: string[];
}

export interface Form {
  id: string;
  ownerId: string;
  title: string;
  fields: FormField[];
  createdAt: string;
}

export interface User {
  id: string;
  email: string;
  createdAt: string;
}

export interface Submission {
  id: string;
  formId: string;
  answers: Record<string, unknown>;
  createdAt: string;
}

/** What a job handler needs: the upstream services, through the kit's client. */
export interface JobContext {
  data: ServiceClient;
  email: ServiceClient;
  emailTimeoutMs: number;
}

/** Runs one job; throws (with a message worth reading in the job's lastError) when it failed. */
export type JobHandler = (job: Job, ctx: JobContext) => Promise<void>;
