import { conflict } from '@repo/service-kit';
import { type Database, UniqueViolationError } from '../db';
import { type Clock, iso } from './clock';
import { newId } from './ids';

export interface User {
  id: string;
  email: string;
  createdAt: string;
}

export interface UserWithPassword extends User {
  passwordHash: string;
}

export interface Owner {
  id: string;
  email: string;
  formCount: number;
}

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  created_at: number;
}

const toUser = (row: UserRow): User => ({ id: row.id, email: row.email, createdAt: iso(row.created_at) });

export function createUserStore(db: Database, clock: Clock) {
  return {
    /** 409 when a user with the same email exists, whatever its case. */
    async create(input: { email: string; passwordHash: string }): Promise<User> {
      const row: UserRow = {
        id: newId(),
        email: input.email,
        password_hash: input.passwordHash,
        created_at: clock.now(),
      };
      try {
        await db.query('INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)', [
          row.id,
          row.email,
          row.password_hash,
          row.created_at,
        ]);
      } catch (error) {
        if (error instanceof UniqueViolationError)
          throw conflict(`a user with email ${input.email} already exists`);
        throw error;
      }
      return toUser(row);
    },

    async findByEmail(email: string): Promise<UserWithPassword | undefined> {
      const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE lower(email) = lower(?)', [email]);
      const row = rows[0];
      return row && { ...toUser(row), passwordHash: row.password_hash };
    },

    async findById(id: string): Promise<User | undefined> {
      const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
      return rows[0] && toUser(rows[0]);
    },

    /** Users who own at least one form, with how many. */
    async listOwners(): Promise<Owner[]> {
      const { rows } = await db.query<{ id: string; email: string; form_count: number }>(
        `SELECT u.id, u.email, COUNT(f.id) AS form_count
         FROM users u JOIN forms f ON f.owner_id = u.id
         GROUP BY u.id, u.email
         ORDER BY u.email`,
      );
      return rows.map((r) => ({ id: r.id, email: r.email, formCount: Number(r.form_count) }));
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
