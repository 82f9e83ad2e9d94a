import { DatePipe } from '@angular/common';
import { HttpClient, httpResource } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSlideToggleModule } from '@angular/material/slide-toggle';
import { MatTableModule } from '@angular/material/table';
import { firstValueFrom } from 'rxjs';
import { AdminAccessToken, AdminAccessTokenList } from '../core/api.types';
import { Notifier } from '../core/errors';
import { confirm } from '../shared/confirm-dialog';
import { lastValue, queryParams } from '../shared/resources';

/** Everyone's personal access tokens: who holds what, when it was last used, and revoking one. */
@Component({
  selector: 'herald-tokens',
  imports: [DatePipe, MatTableModule, MatButtonModule, MatIconModule, MatProgressBarModule, MatSlideToggleModule],
  templateUrl: './tokens.html',
  styleUrl: './tokens.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Tokens {
  private readonly http = inject(HttpClient);
  private readonly dialog = inject(MatDialog);
  private readonly notifier = inject(Notifier);

  protected readonly columns = ['token', 'user_id', 'scopes', 'created_at', 'last_used_at', 'expires_at', 'actions'];
  protected readonly showRevoked = signal(false);
  protected readonly listing = httpResource<AdminAccessTokenList>(() => ({
    url: '/api/admin/tokens',
    params: queryParams({ status: this.showRevoked() ? 'all' : 'active' }),
  }));
  private readonly list = lastValue(this.listing);
  protected readonly rows = computed(() => this.list()?.results ?? []);
  protected readonly revoking = signal<number | null>(null);

  protected async revoke(token: AdminAccessToken): Promise<void> {
    const ok = await confirm(this.dialog, {
      title: 'Revoke token?',
      message: `“${token.name}” (${token.prefix}…) of user ${token.user_id} stops working at once; its live connections close.`,
      confirm: 'Revoke',
      danger: true,
    });
    if (!ok) return;
    this.revoking.set(token.id);
    try {
      const revoked = await firstValueFrom(this.http.delete<AdminAccessToken>(`/api/admin/tokens/${token.id}`));
      this.listing.update((list) =>
        list && {
          results: this.showRevoked()
            ? list.results.map((t) => (t.id === revoked.id ? revoked : t))
            : list.results.filter((t) => t.id !== revoked.id),
        },
      );
      this.notifier.info(`“${token.name}” has been revoked.`);
    } catch {
      // The error interceptor already said what went wrong.
    } finally {
      this.revoking.set(null);
    }
  }
}
