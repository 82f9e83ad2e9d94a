import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { HttpTestingController } from '@angular/common/http/testing';
import { signal } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatCardHarness } from '@angular/material/card/testing';
import { Subject } from 'rxjs';
import { nextRequest, provideTestApp, settle } from '../../testing/helpers';
import { AdminStats } from '../core/api.types';
import { AdminEventName, Live } from '../core/live';
import { Dashboard } from './dashboard';

function stats(overrides: Partial<AdminStats> = {}): AdminStats {
  return {
    users_by_role: { candidate: 120, instructor: 8, admin: 2 },
    courses: 14,
    applications_by_status: { pending: 5, approved: 40, rejected: 3 },
    notifications: { today: 17, week: 230, total: 9100, unread_rate: 0.25 },
    sockets_open: 64,
    per_day: Array.from({ length: 30 }, (_, i) => ({
      date: `2026-10-${String(i + 1).padStart(2, '0')}`,
      count: i === 29 ? 50 : i,
    })),
    ...overrides,
  };
}

describe('Dashboard', () => {
  let fixture: ComponentFixture<Dashboard>;
  let loader: HarnessLoader;
  let http: HttpTestingController;
  const changes = new Subject<AdminEventName>();

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideTestApp(),
        { provide: Live, useValue: { status: signal('open'), changes$: changes } },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(Dashboard);
    loader = TestbedHarnessEnvironment.loader(fixture);
    (await nextRequest(http, '/api/admin/stats')).flush(stats());
    await settle(fixture);
  });

  afterEach(() => http.verify());

  const text = (testId: string) =>
    (fixture.nativeElement as HTMLElement).querySelector(`[data-testid=${testId}]`)?.textContent?.trim();

  it('shows the counts as cards', async () => {
    const titles = await Promise.all(
      (await loader.getAllHarnesses(MatCardHarness)).map((card) => card.getTitleText()),
    );
    expect(titles).toEqual([
      'Users',
      'Applications',
      'Notifications',
      'Unread rate',
      'Live connections',
      'Notifications per day',
    ]);
    expect(text('users-total')).toBe('130');
    expect(text('applications-pending')).toContain('5');
    expect(text('notifications-today')).toContain('17');
    expect(text('unread-rate')).toBe('25%');
    expect(text('sockets-open')).toBe('64');
  });

  it('draws 30 bars scaled to the busiest day', () => {
    const bars = (fixture.nativeElement as HTMLElement).querySelectorAll<HTMLElement>('.bar');
    expect(bars.length).toBe(30);
    expect(bars[29].style.height).toBe('100%');
    expect(bars[0].classList).toContain('zero');
    expect(bars[10].style.height).toBe('20%');
  });

  it('refetches when the server announces a change', async () => {
    changes.next('stats.changed');
    (await nextRequest(http, '/api/admin/stats')).flush(stats({ sockets_open: 65 }));
    await settle(fixture);
    expect(text('sockets-open')).toBe('65');
  });
});
