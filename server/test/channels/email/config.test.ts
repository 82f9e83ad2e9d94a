import path from 'node:path';
import { ConfigError, DATA_DIR, loadEmailConfig } from '../../../config';

describe('email settings', () => {
  test('defaults: no SMTP (files under .data/mail), a 600 s unread delay', () => {
    expect(loadEmailConfig({})).toEqual({
      smtpUrl: undefined,
      from: 'Herald <herald@localhost>',
      unreadDelaySeconds: 600,
      mailDir: path.join(DATA_DIR, 'mail'),
    });
  });

  test('reads SMTP_URL, MAIL_FROM, EMAIL_UNREAD_DELAY_SECONDS and MAIL_DIR', () => {
    expect(
      loadEmailConfig({ SMTP_URL: 'smtp://u:p@mail.example:587', MAIL_FROM: 'Courses <c@x.example>', EMAIL_UNREAD_DELAY_SECONDS: '30', MAIL_DIR: 'tmp/m' }),
    ).toEqual({ smtpUrl: 'smtp://u:p@mail.example:587', from: 'Courses <c@x.example>', unreadDelaySeconds: 30, mailDir: path.resolve('tmp/m') });
  });

  test('a malformed value stops the boot with the variable named', () => {
    expect(() => loadEmailConfig({ SMTP_URL: 'http://mail.example' })).toThrow(ConfigError);
    expect(() => loadEmailConfig({ EMAIL_UNREAD_DELAY_SECONDS: '-1' })).toThrow(/EMAIL_UNREAD_DELAY_SECONDS/);
  });
});
