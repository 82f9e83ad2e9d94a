import { DatePipe } from '@angular/common';
import { HttpClient, httpResource } from '@angular/common/http';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  signal,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatPaginatorModule } from '@angular/material/paginator';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatTableModule } from '@angular/material/table';
import { MatTooltipModule } from '@angular/material/tooltip';
import { asyncScheduler, filter, firstValueFrom, throttleTime } from 'rxjs';
import { Application, ApplicationStatus, Course, Page } from '../core/api.types';
import { Notifier } from '../core/errors';
import { Live } from '../core/live';
import { lastValue, Pager, queryParams } from '../shared/resources';
import { RejectDialog, RejectDialogData } from './reject-dialog';

@Component({
  selector: 'herald-applications',
  imports: [
    DatePipe,
    MatTableModule,
    MatPaginatorModule,
    MatButtonModule,
    MatButtonToggleModule,
    MatFormFieldModule,
    MatSelectModule,
    MatIconModule,
    MatTooltipModule,
    MatProgressBarModule,
  ],
  templateUrl: './applications.html',
  styleUrl: './applications.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Applications {
  private readonly http = inject(HttpClient);
  private readonly dialog = inject(MatDialog);
  private readonly notifier = inject(Notifier);

  protected readonly columns = ['candidate', 'course', 'motivation', 'created_at', 'status', 'actions'];

  /** Pending first: that is the queue an admin comes here to work through. */
  protected readonly status = signal<ApplicationStatus | ''>('pending');
  protected readonly courseId = signal<number | null>(null);
  protected readonly pager = new Pager(() => [this.status(), this.courseId()]);

  protected readonly courses = httpResource<{ results: Course[] }>(() => '/api/courses/');
  protected readonly listing = httpResource<Page<Application>>(() => ({
    url: '/api/admin/applications',
    params: queryParams({
      status: this.status(),
      course_id: this.courseId(),
      page: this.pager.index() + 1,
      page_size: this.pager.size(),
    }),
  }));
  private readonly page = lastValue(this.listing);
  protected readonly rows = computed(() => this.page()?.results ?? []);
  protected readonly total = computed(() => this.page()?.total ?? 0);

  /** The application being decided, so only its buttons wait. */
  protected readonly deciding = signal<number | null>(null);

  constructor() {
    inject(Live)
      .changes$.pipe(
        filter((event) => event === 'application.changed'),
        throttleTime(2000, asyncScheduler, { leading: true, trailing: true }),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.listing.reload());
  }

  protected async approve(app: Application): Promise<void> {
    await this.decide(app, `/api/applications/${app.id}/approve/`, {}, `Approved ${app.candidate.name} for ${app.course.title}.`);
  }

  protected async reject(app: Application): Promise<void> {
    const ref = this.dialog.open<RejectDialog, RejectDialogData, string>(RejectDialog, {
      data: { candidate: app.candidate.name, course: app.course.title },
      width: '520px',
      maxWidth: '95vw',
    });
    const reason = await firstValueFrom(ref.afterClosed());
    if (!reason) return;
    await this.decide(app, `/api/applications/${app.id}/reject/`, { reason }, `Rejected ${app.candidate.name}'s application.`);
  }

  private async decide(app: Application, url: string, body: object, done: string): Promise<void> {
    this.deciding.set(app.id);
    try {
      await firstValueFrom(this.http.post(url, body));
      this.notifier.info(done);
    } catch {
      // Shown by the error interceptor (e.g. someone else decided it first).
    } finally {
      this.deciding.set(null);
      this.listing.reload();
    }
  }
}
