import { BreakpointObserver } from '@angular/cdk/layout';
import { ChangeDetectionStrategy, Component, computed, effect, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatMenuModule } from '@angular/material/menu';
import { MatToolbarModule } from '@angular/material/toolbar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { toSignal } from '@angular/core/rxjs-interop';
import { map } from 'rxjs';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { Auth } from './core/auth';
import { Live } from './core/live';
import { Theme } from './core/theme';

interface NavItem {
  path: string;
  label: string;
  icon: string;
}

@Component({
  selector: 'app-root',
  imports: [
    RouterOutlet,
    RouterLink,
    RouterLinkActive,
    MatToolbarModule,
    MatButtonModule,
    MatIconModule,
    MatMenuModule,
    MatTooltipModule,
  ],
  templateUrl: './app.html',
  styleUrl: './app.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class App {
  protected readonly auth = inject(Auth);
  protected readonly theme = inject(Theme);
  protected readonly live = inject(Live);

  protected readonly nav: readonly NavItem[] = [
    { path: '/dashboard', label: 'Dashboard', icon: 'dashboard' },
    { path: '/notifications', label: 'Notifications', icon: 'notifications' },
    { path: '/compose', label: 'Compose', icon: 'edit_notifications' },
    { path: '/applications', label: 'Applications', icon: 'assignment_ind' },
    { path: '/users', label: 'Users', icon: 'group' },
    { path: '/deliveries', label: 'Deliveries', icon: 'outgoing_mail' },
    { path: '/defaults', label: 'Defaults', icon: 'tune' },
    { path: '/tokens', label: 'Tokens', icon: 'key' },
    { path: '/webhooks', label: 'Webhooks', icon: 'webhook' },
  ];

  /** Matches the stylesheet's breakpoint: below it nav labels hide and tooltips take over. */
  protected readonly compact = toSignal(
    inject(BreakpointObserver)
      .observe('(max-width: 1500px)')
      .pipe(map((state) => state.matches)),
    { initialValue: false },
  );

  protected readonly liveLabel = computed(() => {
    switch (this.live.status()) {
      case 'open':
        return 'Live updates on';
      case 'connecting':
        return 'Connecting to live updates…';
      default:
        return 'Live updates off, retrying';
    }
  });

  constructor() {
    // The socket follows the session: open while an admin is signed in, closed otherwise.
    effect(() => (this.auth.signedIn() ? this.live.connect() : this.live.disconnect()));
  }

  protected logout(): void {
    void this.auth.logout();
  }
}
