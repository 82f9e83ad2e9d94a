import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { FormControl, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule, MatDialogRef } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';

export interface RejectDialogData {
  candidate: string;
  course: string;
}

export const REASON_MAX = 1000;

/** Asks for the reason the candidate will read; closes with it, or with nothing on cancel. */
@Component({
  selector: 'herald-reject-dialog',
  imports: [MatDialogModule, MatButtonModule, MatFormFieldModule, MatInputModule, ReactiveFormsModule],
  templateUrl: './reject-dialog.html',
  styleUrl: './reject-dialog.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RejectDialog {
  protected readonly data = inject<RejectDialogData>(MAT_DIALOG_DATA);
  private readonly ref = inject<MatDialogRef<RejectDialog, string>>(MatDialogRef);
  protected readonly max = REASON_MAX;
  protected readonly reason = new FormControl('', {
    nonNullable: true,
    // Whitespace alone is not a reason.
    validators: [Validators.required, Validators.pattern(/\S/), Validators.maxLength(REASON_MAX)],
  });

  protected submit(): void {
    if (this.reason.invalid) {
      this.reason.markAsTouched();
      return;
    }
    this.ref.close(this.reason.value.trim());
  }
}
