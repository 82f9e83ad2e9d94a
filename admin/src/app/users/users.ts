import { DatePipe } from '@angular/common';
import { HttpClient, httpResource } from '@angular/common/http';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  signal,
} from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { FormControl, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatPaginatorModule } from '@angular/material/paginator';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelect, MatSelectModule } from '@angular/material/select';
import { MatTableModule } from '@angular/material/table';
import { MatTooltipModule } from '@angular/material/tooltip';
import { debounceTime, firstValueFrom } from 'rxjs';
import { AdminUser, Page, Role, ROLES } from '../core/api.types';
import { Auth } from '../core/auth';
import { Notifier } from '../core/errors';
import { confirm } from '../shared/confirm-dialog';
import { lastValue, Pager, queryParams } from '../shared/resources';

@Component({
  selector: 'herald-users',
  imports: [
    DatePipe,
    ReactiveFormsModule,
    MatTableModule,
    MatPaginatorModule,
    MatFormFieldModule,
    MatInputModule,
    MatSelectModule,
    MatButtonModule,
    MatIconModule,
    MatTooltipModule,
    MatProgressBarModule,
  ],
  templateUrl: './users.html',
  styleUrl: './users.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Users {
  private readonly http = inject(HttpClient);
  private readonly dialog = inject(MatDialog);
  private readonly notifier = inject(Notifier);
  protected readonly me = inject(Auth).user;

  protected readonly roles = ROLES;
  protected readonly columns = ['user', 'role', 'active', 'last_login_at', 'created_at', 'actions'];

  protected readonly role = signal<Role | ''>('');
  protected readonly search = new FormControl('', { nonNullable: true });
  private readonly q = toSignal(this.search.valueChanges.pipe(debounceTime(300)), { initialValue: '' });
  protected readonly pager = new Pager(() => [this.role(), this.q()]);

  protected readonly listing = httpResource<Page<AdminUser>>(() => ({
    url: '/api/admin/users',
    params: queryParams({
      role: this.role(),
      q: this.q().trim(),
      page: this.pager.index() + 1,
      page_size: this.pager.size(),
    }),
  }));
  private readonly page = lastValue(this.listing);
  protected readonly rows = computed(() => this.page()?.results ?? []);
  protected readonly total = computed(() => this.page()?.total ?? 0);
  protected readonly saving = signal<number | null>(null);

  protected isMe(user: AdminUser): boolean {
    return user.id === this.me()?.id;
  }

  protected async changeRole(user: AdminUser, role: Role, select: MatSelect): Promise<void> {
    const ok = await confirm(this.dialog, {
      title: 'Change role?',
      message:
        `${user.name} (${user.email}) will become ${article(role)} ${role} instead of ` +
        `${article(user.role)} ${user.role}. Their open sessions will pick up the new role.`,
      confirm: `Make ${role}`,
    });
    if (!ok || !(await this.patch(user, { role }, `${user.name} is now ${article(role)} ${role}.`))) {
      // The select already shows the new choice; put it back.
      select.value = user.role;
    }
  }

  protected async toggleActive(user: AdminUser): Promise<void> {
    const activate = !user.is_active;
    const ok = await confirm(this.dialog, {
      title: activate ? 'Reactivate account?' : 'Deactivate account?',
      message: activate
        ? `${user.name} will be able to sign in again.`
        : `${user.name} will be signed out everywhere and will not be able to sign in until reactivated.`,
      confirm: activate ? 'Reactivate' : 'Deactivate',
      danger: !activate,
    });
    if (!ok) return;
    await this.patch(
      user,
      { is_active: activate },
      `${user.name} ${activate ? 'can sign in again' : 'has been deactivated'}.`,
    );
  }

  private async patch(
    user: AdminUser,
    changes: Partial<Pick<AdminUser, 'role' | 'is_active'>>,
    done: string,
  ): Promise<boolean> {
    this.saving.set(user.id);
    try {
      const updated = await firstValueFrom(
        this.http.patch<AdminUser>(`/api/admin/users/${user.id}`, changes),
      );
      // Patch the row in place: a refetch could move it off the page under a role filter.
      this.listing.update((page) =>
        page && { ...page, results: page.results.map((u) => (u.id === updated.id ? updated : u)) },
      );
      this.notifier.info(done);
      return true;
    } catch {
      return false;
    } finally {
      this.saving.set(null);
    }
  }
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
