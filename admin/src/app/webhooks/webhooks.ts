import { DatePipe } from '@angular/common';
import { HttpClient, httpResource } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTableModule } from '@angular/material/table';
import { firstValueFrom } from 'rxjs';
import { WebhookDelivery, WebhookDeliveryList, WebhookEndpoint, WebhookEndpointList } from '../core/api.types';
import { Notifier } from '../core/errors';
import { lastValue } from '../shared/resources';

/** Every webhook endpoint; for the one picked, its latest deliveries with every attempt, and "send again". */
@Component({
  selector: 'herald-webhooks',
  imports: [DatePipe, MatTableModule, MatButtonModule, MatIconModule, MatProgressBarModule],
  templateUrl: './webhooks.html',
  styleUrl: './webhooks.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Webhooks {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);

  protected readonly columns = ['url', 'events', 'scope', 'state', 'actions'];
  protected readonly deliveryColumns = ['event', 'status', 'attempts', 'actions'];
  protected readonly listing = httpResource<WebhookEndpointList>(() => '/api/admin/webhooks');
  private readonly list = lastValue(this.listing);
  protected readonly rows = computed(() => this.list()?.results ?? []);

  protected readonly selected = signal<WebhookEndpoint | null>(null);
  protected readonly deliveries = httpResource<WebhookDeliveryList>(() => {
    const e = this.selected();
    return e ? `/api/admin/webhooks/${e.id}/deliveries` : undefined;
  });
  protected readonly deliveryRows = computed(() => this.deliveries.value()?.results ?? []);
  protected readonly sending = signal<number | null>(null);

  protected lastAttempt(d: WebhookDelivery) {
    return d.attempts.at(-1);
  }

  protected async sendAgain(d: WebhookDelivery): Promise<void> {
    const endpoint = this.selected();
    if (!endpoint) return;
    this.sending.set(d.id);
    try {
      await firstValueFrom(this.http.post(`/api/admin/webhooks/${endpoint.id}/deliveries/${d.id}/retry`, {}));
      this.notifier.info(`${d.event_type} will be sent again.`);
      this.deliveries.reload();
      this.listing.reload();
    } catch {
      // The error interceptor already said what went wrong.
    } finally {
      this.sending.set(null);
    }
  }
}
