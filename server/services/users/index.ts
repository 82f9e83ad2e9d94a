import { QueryTypes, type Sequelize } from 'sequelize';
import { likePattern } from '../../db/sql';
import type { Role, User } from '../../models';
import { Conflict, Forbidden, NotFound, ValidationError } from '../../errors';
import type { AuthService } from '../auth';
import type { TokenService } from '../tokens';
import { offsetOf, offsetPage, type Page, type PageRequest } from '../paging';

/** An account as user management sees it: never the password hash. */
export interface UserAccount {
  id: number;
  email: string;
  name: string;
  role: Role;
  isActive: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
}

/** The changes an admin may make to a user. */
export interface UserChanges {
  role?: Role;
  isActive?: boolean;
}

/** How much a role may do; a change to a lower rank ends the user's sessions so nothing keeps the old powers. */
const ROLE_RANK: Record<Role, number> = { candidate: 0, instructor: 1, admin: 2 };

interface UserRow {
  id: number;
  email: string;
  name: string;
  role: Role;
  is_active: boolean;
  last_login_at: Date | null;
  created_at: Date;
}

const USER_COLUMNS = 'id, email, name, role, is_active, last_login_at, created_at';

function toUserAccount(u: UserRow): UserAccount {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    isActive: u.is_active,
    lastLoginAt: u.last_login_at ? new Date(u.last_login_at) : null,
    createdAt: new Date(u.created_at),
  };
}

/** User management: listing accounts and changing their role or active flag. Logging in is AuthService's. */
export class UserService {
  readonly #db: Sequelize;
  readonly #auth: AuthService;
  readonly #tokens: TokenService;

  constructor(deps: { sequelize: Sequelize; auth: AuthService; tokens: TokenService }) {
    this.#db = deps.sequelize;
    this.#auth = deps.auth;
    this.#tokens = deps.tokens;
  }

  /** Ordered by name; `q` matches email or name as a substring, or the id exactly when it is a number. */
  async list(f: { role?: Role; q?: string }, p: PageRequest): Promise<Page<UserAccount>> {
    const where: string[] = [];
    const replacements: Record<string, unknown> = {};
    if (f.role) {
      where.push('role = :role');
      replacements.role = f.role;
    }
    if (f.q) {
      const text = `email ILIKE :q ESCAPE '\\' OR name ILIKE :q ESCAPE '\\'`;
      replacements.q = likePattern(f.q);
      if (/^\d{1,9}$/.test(f.q)) {
        where.push(`(id = :qId OR ${text})`);
        replacements.qId = Number(f.q);
      } else {
        where.push(`(${text})`);
      }
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.#db.query<UserRow & { total: string }>(
      `SELECT count(*) OVER () AS total, ${USER_COLUMNS} FROM users ${whereSql}
        ORDER BY lower(name), id LIMIT :limit OFFSET :offset`,
      { replacements: { ...replacements, limit: p.pageSize, offset: offsetOf(p) }, type: QueryTypes.SELECT },
    );
    return offsetPage(p, rows, toUserAccount, async () => {
      const [row] = await this.#db.query<{ n: string }>(`SELECT count(*) AS n FROM users ${whereSql}`, {
        replacements,
        type: QueryTypes.SELECT,
      });
      return Number(row.n);
    });
  }

  /**
   * Changes a user's role or active flag. Deactivation and any drop in role end all of the user's sessions
   * (and so their sockets) once the change has committed; deactivation also revokes their access tokens: nothing keeps powers the user no longer has.
   * An admin cannot deactivate or demote themselves, so the console cannot lock its last admin out.
   */
  async update(actor: User, id: number, changes: UserChanges): Promise<UserAccount> {
    if (changes.role === undefined && changes.isActive === undefined) {
      throw new ValidationError('Nothing to change: send role and/or is_active.', [
        { field: '(body)', message: 'role or is_active is required' },
      ]);
    }
    if (id === actor.id && (changes.isActive === false || (changes.role && changes.role !== 'admin'))) {
      throw new Conflict('You cannot deactivate or demote yourself. Ask another admin.', { user_id: id });
    }
    let endSessions = false;
    let deactivated = false;
    const updated = await this.#db.transaction(async (transaction) => {
      // Lock the actor too (in id order, so two admins editing each other cannot deadlock): two admins demoting
      // each other at once must not both succeed and leave the platform without an admin.
      const locked = await this.#db.query<UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE id IN (:ids) ORDER BY id FOR UPDATE`,
        { replacements: { ids: [...new Set([actor.id, id])] }, type: QueryTypes.SELECT, transaction },
      );
      const me = locked.find((u) => u.id === actor.id);
      if (!me || !me.is_active || me.role !== 'admin') throw new Forbidden();
      const user = locked.find((u) => u.id === id);
      if (!user) throw new NotFound('User');
      const role = changes.role ?? user.role;
      const isActive = changes.isActive ?? user.is_active;
      deactivated = user.is_active && !isActive;
      endSessions = deactivated || ROLE_RANK[role] < ROLE_RANK[user.role];
      const [row] = await this.#db.query<UserRow>(
        `UPDATE users SET role = :role, is_active = :isActive, updated_at = now() WHERE id = :id
         RETURNING ${USER_COLUMNS}`,
        { replacements: { role, isActive, id }, type: QueryTypes.SELECT, transaction },
      );
      return row;
    });
    if (endSessions) await this.#auth.endAllSessions(id);
    // A token never outlives its owner's account. (A lower role keeps its tokens: each request is still judged by
    // the owner's current role, so a scope the role lost simply stops working.)
    if (deactivated) await this.#tokens.revokeAllOf(id);
    return toUserAccount(updated);
  }
}
