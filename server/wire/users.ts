import { z } from 'zod';
import { ROLES, type User } from '../models';
import { int } from './common';

export const UserSchema = z
  .strictObject({ id: int, email: z.string(), name: z.string(), role: z.enum(ROLES) })
  .meta({ id: 'User', description: 'A user as the API shows it (never the password hash).' });

/** A user as the API and the session answers show it: never the hash. */
export type UserJSON = z.output<typeof UserSchema>;

export function toUserJSON(u: Pick<User, 'id' | 'email' | 'name' | 'role'>): UserJSON {
  return { id: u.id, email: u.email, name: u.name, role: u.role };
}
