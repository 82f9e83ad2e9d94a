import { HttpClient, httpResource } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelect, MatSelectModule } from '@angular/material/select';
import { MatSlideToggle, MatSlideToggleModule } from '@angular/material/slide-toggle';
import { MatTableModule } from '@angular/material/table';
import { MatTooltipModule } from '@angular/material/tooltip';
import { firstValueFrom } from 'rxjs';
import {
  DefaultsPatch,
  EMAIL_MODES,
  EmailMode,
  NotificationType,
  PreferenceChannel,
  PreferenceDefaults,
  TypePreference,
} from '../core/api.types';
import { Notifier } from '../core/errors';
import { NOTIFICATION_TYPE_KEYS, NOTIFICATION_TYPES } from '../shared/notification-types';
import { TypeIcon } from '../shared/type-icon';

/** What each email mode means, for the select and its tooltip. */
export const EMAIL_MODE_LABELS: Record<EmailMode, string> = {
  off: 'Off',
  immediate: 'At once',
  unread: 'If still unread',
  digest: 'Daily digest',
};

interface Row {
  type: NotificationType;
  label: string;
  prefs: TypePreference;
  locked: PreferenceChannel[];
}

/**
 * The notification defaults per type: what every user who never chose gets, on each channel. A change is saved
 * at once; users' own choices are untouched. A locked channel (decisions always reach the candidate's inbox)
 * is shown and cannot be switched off.
 */
@Component({
  selector: 'herald-defaults',
  imports: [
    MatTableModule,
    MatSlideToggleModule,
    MatSelectModule,
    MatButtonModule,
    MatIconModule,
    MatTooltipModule,
    MatProgressBarModule,
    TypeIcon,
  ],
  templateUrl: './defaults.html',
  styleUrl: './defaults.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Defaults {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);

  protected readonly columns = ['type', 'in_app', 'email', 'push'];
  protected readonly modes = EMAIL_MODES;
  protected readonly modeLabels = EMAIL_MODE_LABELS;

  protected readonly defaults = httpResource<PreferenceDefaults>(() => '/api/admin/preferences/defaults');
  protected readonly saving = signal<NotificationType | null>(null);

  protected readonly rows = computed<Row[]>(() => {
    const d = this.defaults.hasValue() ? this.defaults.value() : undefined;
    if (!d) return [];
    // Known types in the console's order first, then any the server has that this build does not know yet.
    const known = NOTIFICATION_TYPE_KEYS.filter((t) => t in d.types);
    const extra = Object.keys(d.types).filter((t) => !(t in NOTIFICATION_TYPES)) as NotificationType[];
    return [...known, ...extra].map((type) => ({
      type,
      label: NOTIFICATION_TYPES[type]?.label ?? type,
      prefs: d.types[type],
      locked: d.locked[type] ?? [],
    }));
  });

  protected isLocked(row: Row, channel: PreferenceChannel): boolean {
    return row.locked.includes(channel);
  }

  protected setInApp(row: Row, on: boolean, toggle: MatSlideToggle): void {
    void this.save(row, { in_app: on }, () => (toggle.checked = row.prefs.in_app));
  }

  protected setPush(row: Row, on: boolean, toggle: MatSlideToggle): void {
    void this.save(row, { push: on }, () => (toggle.checked = row.prefs.push));
  }

  protected setEmail(row: Row, email: EmailMode, select: MatSelect): void {
    void this.save(row, { email }, () => (select.value = row.prefs.email));
  }

  /** Sends one channel of one type; on a refusal the control goes back to what is saved (the snackbar says why). */
  private async save(row: Row, change: Partial<TypePreference>, revert: () => void): Promise<void> {
    this.saving.set(row.type);
    try {
      const body: DefaultsPatch = { types: { [row.type]: change } };
      const updated = await firstValueFrom(this.http.patch<PreferenceDefaults>('/api/admin/preferences/defaults', body));
      this.defaults.set(updated);
      this.notifier.info(`${row.label}: default saved.`);
    } catch {
      revert();
    } finally {
      this.saving.set(null);
    }
  }
}
