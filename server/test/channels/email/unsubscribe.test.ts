import { signUnsubscribeToken, verifyUnsubscribeToken } from '../../../channels/email';
import { classifySendError } from '../../../channels/email/transport';

const SECRET = 'test-secret-test-secret-test-secret-123';

describe('one-click unsubscribe tokens', () => {
  test('a token names its user and type, and nothing else verifies', () => {
    const token = signUnsubscribeToken(SECRET, 42, 'announcement');
    expect(verifyUnsubscribeToken(SECRET, token)).toEqual({ userId: 42, type: 'announcement' });
    expect(verifyUnsubscribeToken(SECRET, signUnsubscribeToken(SECRET, 42, 'digest'))).toEqual({ userId: 42, type: 'digest' });

    const [payload, sig] = token.split('.');
    // Another user's id (or another type) under the same signature.
    const otherUser = Buffer.from('43.announcement').toString('base64url');
    const otherType = Buffer.from('42.message').toString('base64url');
    expect(verifyUnsubscribeToken(SECRET, `${otherUser}.${sig}`)).toBeNull();
    expect(verifyUnsubscribeToken(SECRET, `${otherType}.${sig}`)).toBeNull();
    // A flipped signature byte, another secret, junk.
    const flipped = Buffer.from(sig, 'base64url');
    flipped[0] ^= 1;
    expect(verifyUnsubscribeToken(SECRET, `${payload}.${flipped.toString('base64url')}`)).toBeNull();
    expect(verifyUnsubscribeToken(`${SECRET}x`, token)).toBeNull();
    for (const junk of ['', '.', 'abc', `${payload}.`, `${token}.x`, `${payload}.${sig.slice(0, 10)}`, 'x'.repeat(500)]) {
      expect(verifyUnsubscribeToken(SECRET, junk)).toBeNull();
    }
  });

  test('an unknown type is refused even when correctly signed', () => {
    expect(verifyUnsubscribeToken(SECRET, signUnsubscribeToken(SECRET, 1, 'bogus' as never))).toBeNull();
  });
});

describe('SMTP failure classification', () => {
  test('5xx about the message is permanent; 4xx, connection and auth problems are transient', () => {
    expect(classifySendError({ code: 'EENVELOPE', responseCode: 550, response: '550 no such user' })).toEqual({
      kind: 'permanent',
      reason: '550 no such user',
    });
    expect(classifySendError({ code: 'EMESSAGE', responseCode: 554, response: '554 rejected' }).kind).toBe('permanent');
    expect(classifySendError({ code: 'EENVELOPE', responseCode: 451, response: '451 later' }).kind).toBe('transient');
    expect(classifySendError({ code: 'EAUTH', responseCode: 535, response: '535 bad credentials' }).kind).toBe('transient');
    expect(classifySendError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' })).kind).toBe('transient');
  });
});
