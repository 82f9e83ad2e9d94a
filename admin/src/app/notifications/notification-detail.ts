import { DatePipe, JsonPipe } from '@angular/common';
import { httpResource } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { AdminNotification } from '../core/api.types';
import { NOTIFICATION_TYPES } from '../shared/notification-types';
import { TypeIcon } from '../shared/type-icon';

export type NotificationDetailResult = 'delete' | undefined;

/** Opens with the table row at once, then shows the server's fresh copy (read state may have moved). */
@Component({
  selector: 'herald-notification-detail',
  imports: [MatDialogModule, MatButtonModule, MatIconModule, DatePipe, JsonPipe, TypeIcon],
  templateUrl: './notification-detail.html',
  styleUrl: './notification-detail.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class NotificationDetail {
  private readonly row = inject<AdminNotification>(MAT_DIALOG_DATA);
  private readonly fresh = httpResource<AdminNotification>(
    () => `/api/admin/notifications/${this.row.id}`,
  );
  protected readonly n = computed(() => (this.fresh.hasValue() ? this.fresh.value() : this.row));
  protected readonly typeLabel = computed(
    () => NOTIFICATION_TYPES[this.n().type]?.label ?? this.n().type,
  );
  protected readonly hasData = computed(() => {
    const data = this.n().data;
    return !!data && Object.keys(data).length > 0;
  });
}
