import { DatePipe, DecimalPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { MatTooltipModule } from '@angular/material/tooltip';

export interface DayCount {
  date: string;
  count: number;
}

/**
 * Thirty bars in plain CSS: no chart library for one small chart. Screen readers get the same
 * numbers as a table, since the bars themselves carry no text.
 */
@Component({
  selector: 'herald-bar-chart',
  imports: [MatTooltipModule, DatePipe, DecimalPipe],
  templateUrl: './bar-chart.html',
  styleUrl: './bar-chart.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class BarChart {
  readonly days = input.required<DayCount[]>();

  protected readonly max = computed(() => Math.max(1, ...this.days().map((d) => d.count)));
  protected readonly total = computed(() => this.days().reduce((sum, d) => sum + d.count, 0));
  protected readonly bars = computed(() =>
    this.days().map((d, i, all) => ({
      ...d,
      // Dates are calendar days; parsing them as local noon keeps time zones from shifting them.
      day: new Date(`${d.date}T12:00:00`),
      percent: (d.count / this.max()) * 100,
      // Label a bar a week apart, counting back from today, so the latest day is always named.
      labelled: (all.length - 1 - i) % 7 === 0,
    })),
  );
}
