import webPush from 'web-push';
import { QueryTypes, type Sequelize } from 'sequelize';

/** The application server's key pair (RFC 8292) and the contact push services see with it. */
export interface VapidDetails {
  publicKey: string;
  privateKey: string;
  subject: string;
}

export interface VapidConfig {
  publicKey?: string;
  privateKey?: string;
  subject: string;
}

/**
 * The VAPID keys, from the environment or generated once and kept in `settings`. Browsers subscribe with the
 * public key, and a push signed with any other key is refused, so every process and every restart must use the
 * same pair: the first process to need one inserts it, the others (racing or later) read the one that won.
 */
export class VapidKeys {
  readonly #sequelize: Sequelize;
  readonly #config: VapidConfig;
  #details?: Promise<VapidDetails>;

  constructor({ sequelize, config }: { sequelize: Sequelize; config: VapidConfig }) {
    this.#sequelize = sequelize;
    this.#config = config;
  }

  get(): Promise<VapidDetails> {
    this.#details ??= this.#load().catch((err: unknown) => {
      this.#details = undefined; // a database hiccup must not stick for the life of the process
      throw err;
    });
    return this.#details;
  }

  async #load(): Promise<VapidDetails> {
    const { publicKey, privateKey, subject } = this.#config;
    if (publicKey && privateKey) return { publicKey, privateKey, subject };
    const generated = webPush.generateVAPIDKeys();
    await this.#sequelize.query(
      `INSERT INTO settings (key, value) VALUES ('vapid_keys', CAST(:value AS jsonb)) ON CONFLICT (key) DO NOTHING`,
      { replacements: { value: JSON.stringify(generated) } },
    );
    const [row] = await this.#sequelize.query<{ value: { publicKey: string; privateKey: string } }>(
      `SELECT value FROM settings WHERE key = 'vapid_keys'`,
      { type: QueryTypes.SELECT },
    );
    return { publicKey: row.value.publicKey, privateKey: row.value.privateKey, subject };
  }
}
