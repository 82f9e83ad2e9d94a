import { DatePipe } from '@angular/common';
import { HttpClient, httpResource } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, inject, linkedSignal, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { FormControl, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatTableModule } from '@angular/material/table';
import { MatTooltipModule } from '@angular/material/tooltip';
import { debounceTime, firstValueFrom, map } from 'rxjs';
import {
  Delivery,
  DELIVERY_CHANNELS,
  DELIVERY_STATUSES,
  DeliveryChannel,
  DeliveryPage,
  DeliveryStatus,
} from '../core/api.types';
import { Notifier } from '../core/errors';
import { queryParams } from '../shared/resources';

const PAGE_SIZE = 50;

/**
 * What each channel sent, failed or skipped, newest first. Keyset paging: "More" asks for the rows after the
 * last one shown and appends them, so a page never shifts under new deliveries. A failed row can be retried:
 * it goes back to pending and the server queues its send.
 */
@Component({
  selector: 'herald-deliveries',
  imports: [
    DatePipe,
    ReactiveFormsModule,
    MatTableModule,
    MatFormFieldModule,
    MatInputModule,
    MatSelectModule,
    MatButtonModule,
    MatIconModule,
    MatTooltipModule,
    MatProgressBarModule,
  ],
  templateUrl: './deliveries.html',
  styleUrl: './deliveries.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Deliveries {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);

  protected readonly channels = DELIVERY_CHANNELS;
  protected readonly statuses = DELIVERY_STATUSES;
  protected readonly columns = ['id', 'created_at', 'channel', 'recipient', 'status', 'attempts', 'last_error', 'sent_at', 'actions'];

  protected readonly channel = signal<DeliveryChannel | ''>('');
  protected readonly status = signal<DeliveryStatus | ''>('');
  protected readonly recipientInput = new FormControl('', {
    nonNullable: true,
    validators: [Validators.pattern(/^\d{0,9}$/)],
  });
  /** Only a valid user id filters; anything else waits (the field says why). */
  private readonly recipient = toSignal(
    this.recipientInput.valueChanges.pipe(
      debounceTime(300),
      map((v) => (/^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : '')),
    ),
    { initialValue: '' as number | '' },
  );
  private readonly filters = computed(() => ({ channel: this.channel(), status: this.status(), recipient: this.recipient() }));

  /** The cursor of the page being loaded; back to the first page whenever a filter changes. */
  private readonly cursor = linkedSignal<unknown, string | null>({ source: this.filters, computation: () => null });
  /** The rows of the pages before the current one, kept while "More" loads the next. */
  private readonly earlier = linkedSignal<unknown, Delivery[]>({ source: this.filters, computation: () => [] });

  protected readonly listing = httpResource<DeliveryPage>(() => ({
    url: '/api/admin/deliveries',
    params: queryParams({ ...this.filters(), limit: PAGE_SIZE, cursor: this.cursor() }),
  }));
  private readonly page = computed(() => (this.listing.hasValue() ? this.listing.value() : undefined));
  protected readonly rows = computed(() => [...this.earlier(), ...(this.page()?.results ?? [])]);
  protected readonly nextCursor = computed(() => this.page()?.next_cursor ?? null);
  protected readonly retrying = signal<number | null>(null);

  protected more(): void {
    const page = this.page();
    if (!page?.next_cursor) return;
    this.earlier.update((rows) => [...rows, ...page.results]);
    this.cursor.set(page.next_cursor);
  }

  protected reload(): void {
    // A fresh look starts from the newest again.
    this.earlier.set([]);
    if (this.cursor() === null) this.listing.reload();
    else this.cursor.set(null);
  }

  protected async retry(delivery: Delivery): Promise<void> {
    this.retrying.set(delivery.id);
    try {
      const updated = await firstValueFrom(this.http.post<Delivery>(`/api/admin/deliveries/${delivery.id}/retry`, {}));
      const swap = (rows: Delivery[]) => rows.map((d) => (d.id === updated.id ? updated : d));
      this.earlier.update(swap);
      this.listing.update((p) => p && { ...p, results: swap(p.results) });
      this.notifier.info(`Delivery ${delivery.id} will be sent again.`);
    } catch {
      // The interceptor has shown the server's reason; the row stays as it was.
    } finally {
      this.retrying.set(null);
    }
  }
}
