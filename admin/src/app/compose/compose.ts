import { HttpClient, httpResource } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal, viewChild } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { FormBuilder, FormGroupDirective, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatAutocompleteModule, MatAutocompleteSelectedEvent } from '@angular/material/autocomplete';
import { MatButtonModule } from '@angular/material/button';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import { MatCardModule } from '@angular/material/card';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { debounceTime, firstValueFrom, map } from 'rxjs';
import {
  AdminUser,
  Audience,
  Course,
  NotificationType,
  Page,
  Role,
  ROLES,
  SendStatus,
} from '../core/api.types';
import { Auth } from '../core/auth';
import { Notifier } from '../core/errors';
import { confirm } from '../shared/confirm-dialog';
import { BROADCAST_TYPE_KEYS, NOTIFICATION_TYPES } from '../shared/notification-types';
import { TypeIcon } from '../shared/type-icon';

type AudienceKind = Audience['kind'];

/** The send endpoint's limits. */
export const TITLE_MAX = 200;
export const MESSAGE_MAX = 5000;

/** How often the page reads a recorded send's progress while it runs. */
const FOLLOW_MS = 1_000;

interface SendResult {
  title: string;
  recipients: number;
  /** A recorded send only: its audience's size (null until counted) and its state. */
  total?: number | null;
  status?: SendStatus['status'];
}

@Component({
  selector: 'herald-compose',
  imports: [
    ReactiveFormsModule,
    MatButtonToggleModule,
    MatFormFieldModule,
    MatInputModule,
    MatSelectModule,
    MatAutocompleteModule,
    MatButtonModule,
    MatIconModule,
    MatCardModule,
    MatProgressBarModule,
    TypeIcon,
  ],
  templateUrl: './compose.html',
  styleUrl: './compose.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Compose {
  private readonly http = inject(HttpClient);
  private readonly dialog = inject(MatDialog);
  private readonly notifier = inject(Notifier);
  // Leaving the page stops following a send's progress.
  private readonly stopFollowing = inject(DestroyRef).onDestroy(() => (this.#destroyed = true));
  protected readonly me = inject(Auth).user;

  protected readonly types = BROADCAST_TYPE_KEYS;
  protected readonly typeMeta = NOTIFICATION_TYPES;
  protected readonly roles = ROLES;
  protected readonly titleMax = TITLE_MAX;
  protected readonly messageMax = MESSAGE_MAX;

  protected readonly form = inject(FormBuilder).nonNullable.group({
    kind: ['all' as AudienceKind],
    // Text while typing; the autocomplete puts the picked AdminUser object here.
    userSearch: ['' as string | AdminUser],
    courseId: [null as number | null],
    role: ['candidate' as Role],
    type: ['announcement' as NotificationType, Validators.required],
    title: ['', [Validators.required, Validators.maxLength(TITLE_MAX)]],
    message: ['', [Validators.required, Validators.maxLength(MESSAGE_MAX)]],
  });
  /** The directive, not the group: only it clears the "submitted" flag that paints empty required fields red. */
  private readonly formDir = viewChild.required(FormGroupDirective);
  private readonly raw = toSignal(this.form.valueChanges.pipe(map(() => this.form.getRawValue())), {
    initialValue: this.form.getRawValue(),
  });

  /** The user picked from the search; typing again un-picks them. */
  protected readonly pickedUser = signal<AdminUser | null>(null);

  private readonly userQuery = toSignal(
    this.form.controls.userSearch.valueChanges.pipe(debounceTime(250)),
    { initialValue: '' },
  );
  protected readonly userMatches = httpResource<Page<AdminUser>>(() => {
    const typed = this.userQuery();
    const q = typeof typed === 'string' ? typed.trim() : '';
    // Two characters before searching: one letter matches most of the user base.
    return q.length >= 2 && !this.pickedUser()
      ? { url: '/api/admin/users', params: { q, page_size: 10 } }
      : undefined;
  });
  protected readonly courses = httpResource<{ results: Course[] }>(() => '/api/courses/');

  protected readonly audience = computed<Audience | null>(() => {
    const v = this.raw();
    switch (v.kind) {
      case 'user': {
        const user = this.pickedUser();
        return user ? { kind: 'user', user_id: user.id } : null;
      }
      case 'course':
        return v.courseId != null ? { kind: 'course', course_id: v.courseId } : null;
      case 'role':
        return { kind: 'role', role: v.role };
      default:
        return { kind: 'all' };
    }
  });

  protected readonly audienceLabel = computed(() => {
    const v = this.raw();
    switch (v.kind) {
      case 'user':
        return this.pickedUser()?.name ?? 'one user';
      case 'course': {
        const course = this.courses.value()?.results.find((c) => c.id === v.courseId);
        return course ? `everyone in ${course.title}` : 'a course';
      }
      case 'role':
        return `every ${v.role}`;
      default:
        return 'everyone';
    }
  });

  protected readonly preview = computed(() => {
    const v = this.raw();
    return {
      type: v.type,
      title: v.title.trim() || 'Title of the notification',
      message: v.message.trim() || 'The message people will read in their bell.',
    };
  });

  protected readonly sending = signal(false);
  /** The last send: inline ones are done (no status); a recorded one (above SEND_INLINE_MAX) moves until it ends. */
  protected readonly result = signal<SendResult | null>(null);
  #destroyed = false;

  protected displayUser = (user: AdminUser | string | null): string =>
    typeof user === 'string' ? user : user ? `${user.name} <${user.email}>` : '';

  protected pickUser(event: MatAutocompleteSelectedEvent): void {
    this.pickedUser.set(event.option.value as AdminUser);
  }

  protected onUserTyping(): void {
    if (this.pickedUser()) this.pickedUser.set(null);
  }

  protected async send(): Promise<void> {
    const audience = this.audience();
    if (this.form.invalid || !audience) {
      this.form.markAllAsTouched();
      return;
    }
    const { type, title, message } = this.form.getRawValue();
    this.sending.set(true);
    this.result.set(null);
    try {
      const { count } = await firstValueFrom(
        this.http.post<{ count: number }>('/api/admin/audience/count', { audience }),
      );
      const ok = await confirm(this.dialog, {
        title: 'Send this notification?',
        message:
          count === 0
            ? 'Nobody matches this audience, so there is no one to send it to.'
            : `${count.toLocaleString()} ${count === 1 ? 'person' : 'people'} will receive this.`,
        confirm: 'Send',
        disabled: count === 0,
      });
      if (!ok) return;
      const sent = await firstValueFrom(
        this.http.post<{ recipients: number } | SendStatus>('/api/admin/notifications/send', {
          audience,
          notification_type: type,
          title: title.trim(),
          message: message.trim(),
        }),
      );
      if ('status_url' in sent) {
        // 202: recorded, a job writes it in chunks. Follow its status until it ends.
        this.result.set({ title: title.trim(), recipients: sent.recipients, total: sent.total ?? count, status: sent.status });
        this.notifier.info(`Sending to ${count.toLocaleString()} people in parts.`);
        void this.follow(sent.status_url, title.trim());
      } else {
        const { recipients } = sent;
        this.result.set({ recipients, title: title.trim() });
        this.notifier.info(`Sent to ${recipients.toLocaleString()} ${recipients === 1 ? 'person' : 'people'}.`);
      }
      // Keep the audience and type: admins often send a follow-up to the same people. resetForm (not reset) also
      // forgets the submit, so the emptied required fields do not turn red beside the success message.
      this.formDir().resetForm({ ...this.form.getRawValue(), title: '', message: '' });
    } catch {
      // The error interceptor has shown the server's message.
    } finally {
      this.sending.set(false);
    }
  }

  /** Reads a recorded send's status once a second until it finished or was cancelled (or the page is left). */
  private async follow(url: string, title: string): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS));
      if (this.#destroyed || this.result()?.title !== title) return;
      try {
        const s = await firstValueFrom(this.http.get<SendStatus>(url));
        this.result.set({ title, recipients: s.recipients, total: s.total, status: s.status });
        if (s.status === 'finished' || s.status === 'cancelled') return;
      } catch {
        return; // the error interceptor has said why
      }
    }
  }
}
