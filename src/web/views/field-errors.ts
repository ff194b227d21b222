/**
 * A refused form shows its error next to the field it concerns (with aria-invalid and
 * aria-describedby, so a screen reader reads it with the field), not in a banner above the form.
 * The services name the field first in their messages (`name must not be empty`, `password must
 * be at least 10 characters`), which is how the error finds its field; an error that names none
 * stays at the top of the form.
 */
import { html, type SafeHtml } from '../html.js';

/** Input id → what a message about that field starts with. */
export type FieldPatterns = Record<string, RegExp>;

export interface FieldErrors {
  /** The error for the top of the form, when it names no field. */
  general?: string;
  /** ` aria-invalid aria-describedby` for the field's input, or nothing. */
  attributes(id: string): SafeHtml | '';
  /** The error paragraph to place right after the field's input, or nothing. */
  after(id: string): SafeHtml | '';
}

export function fieldErrors(error: string | undefined, patterns: FieldPatterns): FieldErrors {
  const field = error ? Object.keys(patterns).find((id) => patterns[id]!.test(error)) : undefined;
  return {
    general: field ? undefined : error,
    attributes: (id) => (id === field ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''),
    after: (id) => (id === field ? html`<p class="error field-error" role="alert" id="${id}-error">${error}</p>` : ''),
  };
}
