import { Routes } from '@angular/router';
import { adminGuard, signedOutGuard } from './core/auth';

export const routes: Routes = [
  {
    path: 'login',
    title: 'Sign in · Herald admin',
    canActivate: [signedOutGuard],
    loadComponent: () => import('./login/login').then((m) => m.Login),
  },
  {
    path: '',
    canActivateChild: [adminGuard],
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'dashboard' },
      {
        path: 'dashboard',
        title: 'Dashboard · Herald admin',
        loadComponent: () => import('./dashboard/dashboard').then((m) => m.Dashboard),
      },
      {
        path: 'notifications',
        title: 'Notifications · Herald admin',
        loadComponent: () => import('./notifications/notifications').then((m) => m.Notifications),
      },
      {
        path: 'compose',
        title: 'Compose · Herald admin',
        loadComponent: () => import('./compose/compose').then((m) => m.Compose),
      },
      {
        path: 'applications',
        title: 'Applications · Herald admin',
        loadComponent: () => import('./applications/applications').then((m) => m.Applications),
      },
      {
        path: 'deliveries',
        title: 'Deliveries · Herald admin',
        loadComponent: () => import('./deliveries/deliveries').then((m) => m.Deliveries),
      },
      {
        path: 'defaults',
        title: 'Notification defaults · Herald admin',
        loadComponent: () => import('./defaults/defaults').then((m) => m.Defaults),
      },
      {
        path: 'users',
        title: 'Users · Herald admin',
        loadComponent: () => import('./users/users').then((m) => m.Users),
      },
      {
        path: 'tokens',
        title: 'Access tokens · Herald admin',
        loadComponent: () => import('./tokens/tokens').then((m) => m.Tokens),
      },
      {
        path: 'webhooks',
        title: 'Webhooks · Herald admin',
        loadComponent: () => import('./webhooks/webhooks').then((m) => m.Webhooks),
      },
    ],
  },
  { path: '**', redirectTo: 'dashboard' },
];
