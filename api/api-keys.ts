// API keys, mapped to users. They live in a Kubernetes Secret as lines
// "user:role:sha256-of-key" (role: user or admin), so no key is stored in
// clear; the store follows the Secret through an informer, so a change
// takes effect without a restart, on open connections too.
import { createHash } from 'node:crypto';
import { parseWebhooks, type UserWebhook } from './webhooks.ts';

export type Role = 'user' | 'admin';
export interface Caller {
  user: string;
  role: Role;
}

// Users become label values (vdl.dev/owner): the label-value grammar.
const userPattern = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Parses the Secret's "keys" text; bad lines are reported, not fatal. */
export function parseKeys(text: string): { byHash: Map<string, Caller>; errors: string[] } {
  const byHash = new Map<string, Caller>();
  const errors: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [user, role, hash] = line.split(':');
    if (!user || !userPattern.test(user)) errors.push(`line ${index + 1}: bad user name`);
    else if (role !== 'user' && role !== 'admin')
      errors.push(`line ${index + 1}: role must be user or admin`);
    else if (!hash || !/^[a-f0-9]{64}$/.test(hash)) errors.push(`line ${index + 1}: not a sha256 hex digest`);
    else byHash.set(hash, { user, role });
  });
  return { byHash, errors };
}

/** The sha256 of the key in an Authorization header, if it is a bearer key at all. */
export function bearerHash(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match ? hashKey(match[1] as string) : undefined;
}

interface Held {
  /** Who the credential that opened the connection is now. */
  check: () => Caller | undefined;
  caller: Caller;
  end: () => void;
}

export class ApiKeyStore {
  private byHash = new Map<string, Caller>();
  private webhooks = new Map<string, UserWebhook>();
  private readonly held = new Set<Held>();

  replace(text: string): string[] {
    const { byHash, errors } = parseKeys(text);
    this.byHash = byHash;
    // A revoked key (or a changed role) must not keep what it opened: streams would go on answering it.
    for (const entry of this.held) {
      const now = entry.check();
      if (now?.user !== entry.caller.user || now.role !== entry.caller.role) {
        this.held.delete(entry);
        entry.end();
      }
    }
    return errors;
  }

  /** Calls end once this header no longer authenticates as caller; the returned function lets go. */
  hold(header: string | undefined, caller: Caller, end: () => void): () => void {
    return this.holdWhile(() => this.authenticate(header), caller, end);
  }

  /** Calls end once check no longer answers caller (a ticket's key revoked, say). */
  holdWhile(check: () => Caller | undefined, caller: Caller, end: () => void): () => void {
    const entry = { check, caller, end };
    this.held.add(entry);
    return () => this.held.delete(entry);
  }

  /** The users' webhooks, from the same Secret's data key "webhooks"; returns the errors. */
  replaceWebhooks(text: string): string[] {
    const { byUser, errors } = parseWebhooks(text);
    this.webhooks = byUser;
    return errors;
  }

  /** The signing Secret (and default url) an admin set for a user, if any. */
  webhookOf(user: string): UserWebhook | undefined {
    return this.webhooks.get(user);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The caller of an Authorization header, or undefined. */
  authenticate(header: string | undefined): Caller | undefined {
    const hash = bearerHash(header);
    return hash ? this.byHash.get(hash) : undefined;
  }

  /** The caller of the key with this sha256 (from a ticket), or undefined. */
  authenticateHash(hash: string): Caller | undefined {
    return this.byHash.get(hash);
  }
}
