import { DecimalPipe, PercentPipe } from '@angular/common';
import { httpResource } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { RouterLink } from '@angular/router';
import { asyncScheduler, interval, merge, throttleTime } from 'rxjs';
import { AdminStats } from '../core/api.types';
import { Live } from '../core/live';
import { lastValue } from '../shared/resources';
import { BarChart } from './bar-chart';

/** Stats are cheap to fetch but not free; the timer covers changes no event announces. */
const REFRESH_MS = 30_000;
/** A burst of events (a broadcast to thousands) becomes at most one refetch per window. */
const EVENT_THROTTLE_MS = 2_000;

@Component({
  selector: 'herald-dashboard',
  imports: [
    MatCardModule,
    MatIconModule,
    MatButtonModule,
    MatProgressBarModule,
    RouterLink,
    DecimalPipe,
    PercentPipe,
    BarChart,
  ],
  templateUrl: './dashboard.html',
  styleUrl: './dashboard.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Dashboard {
  protected readonly live = inject(Live);
  protected readonly statsResource = httpResource<AdminStats>(() => '/api/admin/stats');
  protected readonly stats = lastValue(this.statsResource);

  protected readonly totalUsers = computed(() => {
    const byRole = this.stats()?.users_by_role;
    return byRole ? byRole.candidate + byRole.instructor + byRole.admin : 0;
  });

  constructor() {
    merge(
      interval(REFRESH_MS),
      this.live.changes$.pipe(
        throttleTime(EVENT_THROTTLE_MS, asyncScheduler, { leading: true, trailing: true }),
      ),
    )
      .pipe(takeUntilDestroyed())
      .subscribe(() => this.statsResource.reload());
  }
}
