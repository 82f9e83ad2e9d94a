import { BreakpointObserver } from '@angular/cdk/layout';
import { DatePipe } from '@angular/common';
import { HttpErrorResponse } from '@angular/common/http';
import { HttpClient, httpResource } from '@angular/common/http';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  linkedSignal,
  signal,
} from '@angular/core';
import { takeUntilDestroyed, toObservable, toSignal } from '@angular/core/rxjs-interop';
import { FormBuilder, ReactiveFormsModule } from '@angular/forms';
import { ActivatedRoute, Router } from '@angular/router';
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
import { asyncScheduler, debounceTime, filter, firstValueFrom, map, skip, throttleTime } from 'rxjs';
import { AdminNotification, ApiErrorBody, Course, NotificationType, Page } from '../core/api.types';
import { Notifier } from '../core/errors';
import { Live } from '../core/live';
import { confirm } from '../shared/confirm-dialog';
import { NOTIFICATION_TYPE_KEYS, NOTIFICATION_TYPES } from '../shared/notification-types';
import { lastValue, Pager, queryParams } from '../shared/resources';
import { Highlight } from '../shared/highlight';
import { TypeIcon } from '../shared/type-icon';
import {
  EMPTY_FILTERS,
  FilterValue,
  filtersFromUrl,
  filtersToUrl,
  hasFilters,
  requestFilters,
  SortKey,
  SortValue,
  STATES,
} from './notification-filters';
import { NotificationDetail, NotificationDetailResult } from './notification-detail';

/** The page answer: the notifications, and the searched words to mark in them. */
type NotificationPage = Page<AdminNotification> & { words: string[] };

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
    Highlight,
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

  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  /** A shared link opens the view it was copied from: the form starts from the page's query parameters. */
  private readonly initial = filtersFromUrl(this.route.snapshot.queryParams);
  protected readonly states = STATES;
  protected readonly courses = httpResource<{ results: Course[] }>(() => '/api/courses/');

  protected readonly filters = inject(FormBuilder).nonNullable.group({
    q: [this.initial.filters.q],
    recipient: [this.initial.filters.recipient],
    sender: [this.initial.filters.sender],
    type: [this.initial.filters.type],
    exclude_type: [this.initial.filters.exclude_type],
    course: [this.initial.filters.course],
    status: [this.initial.filters.status],
    from: [this.initial.filters.from],
    to: [this.initial.filters.to],
  });
  private readonly filterValues = toSignal(
    this.filters.valueChanges.pipe(
      debounceTime(FILTER_DEBOUNCE_MS),
      map((): FilterValue => this.filters.getRawValue()),
    ),
    { initialValue: this.filters.getRawValue() as FilterValue },
  );
  protected readonly hasFilters = computed(() => hasFilters(this.filterValues()));

  protected readonly sort = signal<SortValue>(this.initial.sort);
  protected readonly pager = new Pager(() => [this.filterValues(), this.sort()]);

  protected readonly listing = httpResource<NotificationPage>(() => {
    const sort = this.sort();
    return {
      url: '/api/admin/notifications',
      params: queryParams({
        ...requestFilters(this.filterValues()),
        sort: sort.active,
        order: sort.direction,
        page: this.pager.index() + 1,
        page_size: this.pager.size(),
      }),
    };
  });
  /** The server's own words for a failed search (a 400 names the field); the interceptor shows the rest. */
  protected readonly loadError = computed(() => {
    const error = this.listing.error();
    if (!error) return null;
    const body = error instanceof HttpErrorResponse ? (error.error as ApiErrorBody | null) : null;
    return body?.error?.message ?? 'The notifications could not be loaded.';
  });
  private readonly page = lastValue(this.listing);
  protected readonly rows = computed(() => this.page()?.results ?? []);
  protected readonly total = computed(() => this.page()?.total ?? 0);
  protected readonly words = computed(() => this.page()?.words ?? []);

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
    // The view lives in the URL, so a moderator can share it; replaceUrl keeps typing out of the history.
    // The first values are the URL's own: writing them back would only normalise a link the reader just opened.
    toObservable(computed(() => filtersToUrl(this.filterValues(), this.sort())))
      .pipe(skip(1), takeUntilDestroyed())
      .subscribe((queryParams) => {
        void this.router.navigate([], { relativeTo: this.route, queryParams, replaceUrl: true });
      });
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

  /** Each row is in one state; done and snoozed rows are read underneath, so they say what they are. */
  protected stateLabel(row: AdminNotification): string {
    if (row.done_at) return 'Done';
    if (row.snoozed_until) return 'Snoozed';
    return row.is_read ? 'Read' : 'Unread';
  }

  protected onSort(sort: Sort): void {
    this.sort.set({
      active: (sort.active as SortKey) || 'created_at',
      direction: sort.direction || 'desc',
    });
  }

  protected clearFilters(): void {
    this.filters.setValue({ ...EMPTY_FILTERS });
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
