import { HarnessLoader } from '@angular/cdk/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { nextRequest, settle, setupScreen } from '../../testing/helpers';
import { WebhookDelivery, WebhookEndpoint } from '../core/api.types';
import { Auth } from '../core/auth';
import { Webhooks } from './webhooks';

const endpoint: WebhookEndpoint = {
  id: 3,
  user_id: 1,
  course_id: null,
  url: 'https://hooks.example.com/herald',
  events: ['broadcast.sent'],
  description: 'audit',
  enabled: true,
  failing_since: '2026-11-29T09:00:00Z',
  disabled_at: null,
  created_at: '2026-11-01T08:00:00Z',
};
const delivery: WebhookDelivery = {
  id: 41,
  event_id: 'msg_abc',
  event_type: 'broadcast.sent',
  status: 'pending',
  created_at: '2026-11-29T09:00:00Z',
  attempts: [
    { attempt: 1, status_code: 503, latency_ms: 12, response_excerpt: 'try later', error: null, created_at: '2026-11-29T09:00:00Z' },
  ],
};

describe('Webhooks', () => {
  let fixture: ComponentFixture<Webhooks>;
  let loader: HarnessLoader;
  let http: HttpTestingController;

  beforeEach(async () => {
    ({ fixture, loader, http } = await setupScreen(Webhooks, async (backend) => {
      const signingIn = TestBed.inject(Auth).session();
      (await nextRequest(backend, '/api/auth/csrf')).flush({
        csrf_token: 'tok',
        user: { id: 1, email: 'ada@example.com', name: 'Ada', role: 'admin' },
      });
      expect(await signingIn).toMatchObject({ id: 1, role: 'admin' });
    }));
    (await nextRequest(http, '/api/admin/webhooks')).flush({ results: [endpoint] });
    await settle(fixture);
  });

  afterEach(() => http.verify());

  it('lists endpoints with what they hear and whether they are failing', async () => {
    const [row] = await (await loader.getHarness(MatTableHarness)).getRows();
    const cells = await row.getCellTextByColumnName();
    expect(cells['url']).toContain('https://hooks.example.com/herald');
    expect(cells['events']).toContain('broadcast.sent');
    expect(cells['scope']).toContain('Everything');
    expect(cells['state']).toContain('Failing since 29 Nov 2026');
  });

  it('shows an endpoint’s attempts and sends a delivery again', async () => {
    const opened = (await loader.getHarness(MatButtonHarness.with({ text: /Deliveries/ }))).click();
    (await nextRequest(http, '/api/admin/webhooks/3/deliveries')).flush({ results: [delivery] });
    await opened;
    await settle(fixture);
    const tables = await loader.getAllHarnesses(MatTableHarness);
    const [row] = await tables[1].getRows();
    expect((await row.getCellTextByColumnName())['attempts']).toContain('#1: 503 in 12 ms');

    const clicked = (await loader.getHarness(MatButtonHarness.with({ text: /Send again/ }))).click();
    const retry = await nextRequest(http, '/api/admin/webhooks/3/deliveries/41/retry');
    expect(retry.request.method).toBe('POST');
    retry.flush(null, { status: 202, statusText: 'Accepted' });
    // Sent again: both lists are read afresh.
    (await nextRequest(http, '/api/admin/webhooks/3/deliveries')).flush({ results: [delivery] });
    (await nextRequest(http, '/api/admin/webhooks')).flush({ results: [endpoint] });
    await clicked;
    await settle(fixture);
  });
});
