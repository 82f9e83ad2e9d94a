import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import { NotificationType } from '../core/api.types';
import { NOTIFICATION_TYPES } from './notification-types';

/** The round coloured badge that marks a notification's type, as the bell shows it. */
@Component({
  selector: 'herald-type-icon',
  imports: [MatIconModule],
  templateUrl: './type-icon.html',
  styleUrl: './type-icon.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { '[class]': '"type-" + type()' },
})
export class TypeIcon {
  readonly type = input.required<NotificationType>();
  /** Off when a visible label next to the badge already names the type. */
  readonly labelled = input(true);
  protected readonly meta = computed(
    () => NOTIFICATION_TYPES[this.type()] ?? { label: this.type(), icon: 'notifications' },
  );
}
