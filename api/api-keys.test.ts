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
