import { BreakpointObserver } from '@angular/cdk/layout';
import { DatePipe } from '@angular/common';
import { HttpClient, httpResource } from '@angular/common/http';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  linkedSignal,
  signal,
} from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { FormBuilder, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatChipsModule } from '@angular/material/chips';
import { MatDatepickerModule } from '@angular/material/datepicker';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatPaginatorModule } from '@angular/material/paginator';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatSortModule, Sort } from '@angular/material/sort';
import { MatTableModule } from '@angular/material/table';
import { MatTooltipModule } from '@angular/material/tooltip';
import { asyncScheduler, debounceTime, filter, firstValueFrom, map, throttleTime } from 'rxjs';
import { AdminNotification, NotificationType, Page } from '../core/api.types';
import { Notifier } from '../core/errors';
import { Live } from '../core/live';
import { confirm } from '../shared/confirm-dialog';
import { NOTIFICATION_TYPE_KEYS, NOTIFICATION_TYPES } from '../shared/notification-types';
import { lastValue, Pager, queryParams } from '../shared/resources';
import { TypeIcon } from '../shared/type-icon';
import { NotificationDetail, NotificationDetailResult } from './notification-detail';

type SortKey = 'created_at' | 'title' | 'type' | 'recipient';
type ReadState = 'all' | 'unread' | 'read';

/** Typing in a text filter should not send a request per keystroke. */
export const FILTER_DEBOUNCE_MS = 300;

@Component({
  selector: 'herald-notifications',
  imports: [
    ReactiveFormsModule,
    DatePipe,
    MatTableModule,
    MatSortModule,
    MatPaginatorModule,
    MatCheckboxModule,
    MatFormFieldModule,
    MatInputModule,
    MatSelectModule,
    MatDatepickerModule,
    MatButtonModule,
    MatIconModule,
    MatChipsModule,
    MatTooltipModule,
    MatProgressBarModule,
    TypeIcon,
  ],
  templateUrl: './notifications.html',
  styleUrl: './notifications.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Notifications {
  private readonly http = inject(HttpClient);
  private readonly dialog = inject(MatDialog);
  private readonly notifier = inject(Notifier);

  protected readonly types = NOTIFICATION_TYPE_KEYS;
  protected readonly typeMeta = NOTIFICATION_TYPES;
  /** Tablet widths drop the status column; unread rows then carry a dot in the title cell. */
  protected readonly compact = toSignal(
    inject(BreakpointObserver)
      .observe('(max-width: 1100px)')
      .pipe(map((state) => state.matches)),
    { initialValue: false },
  );
  protected readonly columns = computed(() =>
    this.compact()
      ? ['select', 'type', 'title', 'recipient', 'created_at', 'actions']
      : ['select', 'type', 'title', 'recipient', 'status', 'created_at', 'actions'],
  );

  protected readonly filters = inject(FormBuilder).group({
    recipient: [''],
    type: ['' as NotificationType | ''],
    status: ['all' as ReadState],
    from: [null as Date | null],
    to: [null as Date | null],
    q: [''],
  });
  private readonly filterValues = toSignal(
    this.filters.valueChanges.pipe(
      debounceTime(FILTER_DEBOUNCE_MS),
      map(() => this.filters.getRawValue()),
    ),
    { initialValue: this.filters.getRawValue() },
  );
  protected readonly hasFilters = computed(() => {
    const f = this.filterValues();
    return !!(f.recipient || f.type || f.status !== 'all' || f.from || f.to || f.q);
  });

  protected readonly sort = signal<{ active: SortKey; direction: 'asc' | 'desc' }>({
    active: 'created_at',
    direction: 'desc',
  });
  protected readonly pager = new Pager(() => [this.filterValues(), this.sort()]);

  protected readonly listing = httpResource<Page<AdminNotification>>(() => {
    const f = this.filterValues();
    const sort = this.sort();
    return {
      url: '/api/admin/notifications',
      params: queryParams({
        recipient: f.recipient?.trim(),
        type: f.type,
        status: f.status,
        from: f.from ? startOfDay(f.from).toISOString() : null,
        to: f.to ? endOfDay(f.to).toISOString() : null,
        q: f.q?.trim(),
        sort: sort.active,
        order: sort.direction,
        page: this.pager.index() + 1,
        page_size: this.pager.size(),
      }),
    };
  });
  private readonly page = lastValue(this.listing);
  protected readonly rows = computed(() => this.page()?.results ?? []);
  protected readonly total = computed(() => this.page()?.total ?? 0);

  /** Ids ticked on this page; rows that leave the page after a reload drop out of it. */
  protected readonly selected = linkedSignal<AdminNotification[], ReadonlySet<number>>({
    source: this.rows,
    computation: (rows, previous) => {
      const keep = new Set(rows.map((r) => r.id));
      return new Set([...(previous?.value ?? [])].filter((id) => keep.has(id)));
    },
  });
  protected readonly allSelected = computed(
    () => this.rows().length > 0 && this.selected().size === this.rows().length,
  );
  protected readonly someSelected = computed(() => this.selected().size > 0 && !this.allSelected());
  protected readonly busy = signal(false);

  constructor() {
    // New notifications only show on the first page of the default order; elsewhere a
    // refetch would just shuffle the rows under the reader.
    inject(Live)
      .changes$.pipe(
        filter((event) => event === 'notification.created'),
        throttleTime(2000, asyncScheduler, { leading: true, trailing: true }),
        filter(() => this.pager.index() === 0 && this.sort().active === 'created_at'),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.listing.reload());
  }

  protected typeLabel(type: string): string {
    return NOTIFICATION_TYPES[type as NotificationType]?.label ?? type;
  }

  protected onSort(sort: Sort): void {
    this.sort.set({
      active: (sort.active as SortKey) || 'created_at',
      direction: sort.direction || 'desc',
    });
  }

  protected clearFilters(): void {
    this.filters.reset({ recipient: '', type: '', status: 'all', from: null, to: null, q: '' });
  }

  protected toggle(id: number): void {
    this.selected.update((ids) => {
      const next = new Set(ids);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  }

  protected toggleAll(): void {
    this.selected.set(this.allSelected() ? new Set() : new Set(this.rows().map((r) => r.id)));
  }

  protected async open(row: AdminNotification): Promise<void> {
    const ref = this.dialog.open<NotificationDetail, AdminNotification, NotificationDetailResult>(
      NotificationDetail,
      { data: row, width: '640px', maxWidth: '95vw', autoFocus: 'dialog' },
    );
    if ((await firstValueFrom(ref.afterClosed())) === 'delete') await this.deleteOne(row);
  }

  protected async deleteOne(row: AdminNotification): Promise<void> {
    const ok = await confirm(this.dialog, {
      title: 'Delete notification?',
      message: `“${row.title}” will be removed from ${row.recipient.name}'s notifications.`,
      confirm: 'Delete',
      danger: true,
    });
    if (!ok) return;
    await this.run(async () => {
      await firstValueFrom(this.http.delete(`/api/admin/notifications/${row.id}`));
      this.notifier.info('Notification deleted.');
    });
  }

  protected async deleteSelected(): Promise<void> {
    const ids = [...this.selected()];
    if (ids.length === 0) return;
    const ok = await confirm(this.dialog, {
      title: `Delete ${ids.length} ${ids.length === 1 ? 'notification' : 'notifications'}?`,
      message: 'They will be removed from their recipients’ notifications. This cannot be undone.',
      confirm: 'Delete',
      danger: true,
    });
    if (!ok) return;
    await this.run(async () => {
      const { deleted } = await firstValueFrom(
        this.http.post<{ deleted: number }>('/api/admin/notifications/bulk-delete', { ids }),
      );
      this.selected.set(new Set());
      this.notifier.info(`Deleted ${deleted} ${deleted === 1 ? 'notification' : 'notifications'}.`);
    });
  }

  /** Runs a mutation, then refetches; the interceptor has already shown any server error. */
  private async run(action: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    try {
      await action();
    } catch {
      // Reported by the error interceptor.
    } finally {
      this.busy.set(false);
      this.listing.reload();
    }
  }
}

function startOfDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

/** The range picker selects whole days, so "to" includes all of its last day. */
function endOfDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate(), 23, 59, 59, 999);
}
