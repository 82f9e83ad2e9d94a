import { DOCUMENT } from '@angular/common';
import { computed, effect, inject, Injectable, signal } from '@angular/core';

export type ThemeMode = 'light' | 'dark';
const STORAGE_KEY = 'herald-admin-theme';

/**
 * Light or dark, following the OS until the user picks one. The Material theme uses CSS
 * `light-dark()`, so switching is just forcing `color-scheme` on <html> with a class.
 */
@Injectable({ providedIn: 'root' })
export class Theme {
  private readonly document = inject(DOCUMENT);
  private readonly media = this.document.defaultView?.matchMedia?.('(prefers-color-scheme: dark)');
  private readonly systemDark = signal(this.media?.matches ?? false);
  /** The user's explicit choice; null follows the OS. */
  private readonly override = signal<ThemeMode | null>(this.readStored());

  readonly mode = computed<ThemeMode>(
    () => this.override() ?? (this.systemDark() ? 'dark' : 'light'),
  );

  constructor() {
    this.media?.addEventListener?.('change', (e) => this.systemDark.set(e.matches));
    effect(() => {
      const choice = this.override();
      const root = this.document.documentElement;
      root.classList.toggle('theme-light', choice === 'light');
      root.classList.toggle('theme-dark', choice === 'dark');
      try {
        if (choice) localStorage.setItem(STORAGE_KEY, choice);
        else localStorage.removeItem(STORAGE_KEY);
      } catch {
        // Private mode or disabled storage: the choice lasts for this tab only.
      }
    });
  }

  /**
   * Flips the visible theme. Landing on what the OS would pick anyway clears the override,
   * so a single button both forces a theme and returns to following the system.
   */
  toggle(): void {
    const next: ThemeMode = this.mode() === 'dark' ? 'light' : 'dark';
    const system: ThemeMode = this.systemDark() ? 'dark' : 'light';
    this.override.set(next === system ? null : next);
  }

  private readStored(): ThemeMode | null {
    try {
      const v = localStorage.getItem(STORAGE_KEY);
      return v === 'light' || v === 'dark' ? v : null;
    } catch {
      return null;
    }
  }
}
