import { describe, expect, it } from 'vitest';
import { ApiKeyStore, hashKey, parseKeys } from './api-keys.ts';

describe('API keys', () => {
  const text = `# users\nalice:user:${hashKey('alice-key')}\nroot:admin:${hashKey('root-key')}\nBad User:user:${hashKey('x')}\nbob:owner:${hashKey('y')}\ncarol:user:nothex\n`;

  it('parses user:role:sha256 lines and reports bad ones', () => {
    const { byHash, errors } = parseKeys(text);
    expect([...byHash.values()]).toEqual([
      { user: 'alice', role: 'user' },
      { user: 'root', role: 'admin' },
    ]);
    expect(errors).toEqual([
      'line 4: bad user name',
      'line 5: role must be user or admin',
      'line 6: not a sha256 hex digest',
    ]);
  });

  it('authenticates Bearer keys by their hash only', () => {
    const store = new ApiKeyStore();
    store.replace(text);
    expect(store.authenticate('Bearer alice-key')).toEqual({ user: 'alice', role: 'user' });
    expect(store.authenticate('bearer root-key')).toEqual({ user: 'root', role: 'admin' });
    expect(store.authenticate(`Bearer ${hashKey('alice-key')}`)).toBeUndefined();
    expect(store.authenticate('Basic alice-key')).toBeUndefined();
    expect(store.authenticate(undefined)).toBeUndefined();
    store.replace('');
    expect(store.authenticate('Bearer alice-key')).toBeUndefined();
  });
});

describe('held connections', () => {
  const alice = `alice:user:${hashKey('alice-key')}\n`;
  const bob = `bob:user:${hashKey('bob-key')}\n`;

  it('end when their key is revoked or its role changes, and not otherwise', () => {
    const store = new ApiKeyStore();
    store.replace(alice + bob);
    const ended: string[] = [];
    store.hold('Bearer alice-key', { user: 'alice', role: 'user' }, () => ended.push('alice'));
    store.hold('Bearer bob-key', { user: 'bob', role: 'user' }, () => ended.push('bob'));
    store.replace(alice + bob);
    expect(ended).toEqual([]);
    store.replace(alice);
    expect(ended).toEqual(['bob']);
    store.replace(`alice:admin:${hashKey('alice-key')}\n`);
    expect(ended).toEqual(['bob', 'alice']);
  });

  it('are forgotten once let go', () => {
    const store = new ApiKeyStore();
    store.replace(alice);
    let ended = false;
    const release = store.hold('Bearer alice-key', { user: 'alice', role: 'user' }, () => {
      ended = true;
    });
    release();
    store.replace('');
    expect(ended).toBe(false);
  });
});
