import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialog, MatDialogModule } from '@angular/material/dialog';
import { firstValueFrom } from 'rxjs';

/** What a confirmation asks; `confirm` names the action so the button reads as a verb. */
export interface ConfirmData {
  title: string;
  message: string;
  confirm: string;
  /** Styles the confirm button as destructive. */
  danger?: boolean;
  /** Keeps the confirm button disabled, e.g. when nobody would receive a notification. */
  disabled?: boolean;
}

@Component({
  selector: 'herald-confirm-dialog',
  imports: [MatDialogModule, MatButtonModule],
  templateUrl: './confirm-dialog.html',
  styleUrl: './confirm-dialog.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConfirmDialog {
  protected readonly data = inject<ConfirmData>(MAT_DIALOG_DATA);
}

/** Opens a confirmation and resolves to true only when the user confirmed. */
export async function confirm(dialog: MatDialog, data: ConfirmData): Promise<boolean> {
  const ref = dialog.open<ConfirmDialog, ConfirmData, boolean>(ConfirmDialog, {
    data,
    width: '440px',
    maxWidth: '95vw',
    autoFocus: 'first-tabbable',
    role: 'alertdialog',
  });
  return (await firstValueFrom(ref.afterClosed())) === true;
}
